/**
 * Whether the whole settings document read from Listmonk can be written back without losing a
 * secret. PUT /api/settings replaces every key; GET never returns secrets. What each version does,
 * read from knadh/listmonk's cmd/settings.go at every tag from v2.0.0 to v6.2.0 (master
 * 911e0b77 has the v6.2.0 handler unchanged):
 *
 * - GET hides secrets: v2.0–v2.4 send them empty (list entries' `password` omitted), v2.5+ as one
 *   `•` per character. The frontend, and `blankMaskedSecrets`, turn a mask back into "" before a PUT.
 * - PUT keeps the stored value of every secret it receives as "": the top-level ones
 *   (`upload.s3.aws_secret_access_key`, `bounce.sendgrid_key`; v2.4+ the captcha secret, v3.0+
 *   `bounce.postmark`, v4.0+ `security.oidc`, v4.1+ `bounce.forwardemail`, v6.1+
 *   `bounce.lettermint`, v6.2 `bounce.azure`) on every version, each exactly the set GET hides.
 *   The handler does NOT recognise the mask itself: a `•••` sent back is saved as the password.
 * - Entries of `smtp`, `bounce.mailboxes` and `messengers` get their password back from the stored
 *   entry with the same `uuid`, and the loop does not stop at the first match: entries sharing a
 *   uuid all get the password of the LAST stored one. Entries no one has saved since the install
 *   have no uuid (schema.sql ships two SMTP servers and a bounce mailbox without one, on every
 *   version), so two of them share "" and the first one's password would be replaced by the
 *   second's. An empty uuid is then assigned, so it happens on the first whole-document write only.
 *
 * So the write-back is safe on v2.0–v6.2 once masks are blanked, except where entries of one list
 * share a uuid and one may hold a password: on v2.5+ a non-empty mask says it does; v2.0–v2.4 send
 * none, so any shared uuid is refused there. Versions outside v2.0–v6.2 were not reviewed.
 */
import { atLeast, type ServerVersion } from './version.ts';

/** The newest Listmonk whose settings handler was reviewed (see above). */
export const SETTINGS_REVIEWED_UP_TO = { major: 6, minor: 2 } as const;

const SECRET_LISTS = ['smtp', 'bounce.mailboxes', 'messengers'] as const;

/** Why writing the document back would lose or swap a secret, one sentence each; empty when it is safe. */
export function settingsWriteRisks(doc: Record<string, unknown>, v: ServerVersion): string[] {
  const { major, minor } = SETTINGS_REVIEWED_UP_TO;
  if (!atLeast(v, 2))
    return [`Listmonk ${v.raw} is older than v2.0: audience does not know how its settings handler treats secrets, so it does not write the settings of this version.`];
  if (atLeast(v, major, minor + 1))
    return [
      `Listmonk ${v.raw} is newer than v${major}.${minor}, the last version whose settings handler audience was checked against (a new secret it hides but does not keep would be lost); set the sliding window in Listmonk (Settings → Performance) until audience is updated.`,
    ];
  const masks = atLeast(v, 2, 5);
  const risks: string[] = [];
  for (const key of SECRET_LISTS) {
    const entries = doc[key];
    if (!Array.isArray(entries)) continue;
    const byUuid = new Map<string, number[]>();
    entries.forEach((e: unknown, i) => {
      const uuid = e && typeof e === 'object' && typeof (e as { uuid?: unknown }).uuid === 'string' ? (e as { uuid: string }).uuid : '';
      byUuid.set(uuid, [...(byUuid.get(uuid) ?? []), i]);
    });
    for (const [uuid, idx] of byUuid) {
      if (idx.length < 2) continue;
      const holdsSecret = idx.some((i) => {
        const pw = (entries[i] as { password?: unknown } | null)?.password;
        return typeof pw === 'string' && pw.length > 0;
      });
      if (masks && !holdsSecret) continue;
      const which = `${key} entries ${idx.map((i) => `#${i + 1}`).join(', ')}`;
      const why = masks
        ? 'at least one of them has a password'
        : `Listmonk ${v.raw} (before v2.5) sends passwords empty, so whether they hold one cannot be told`;
      risks.push(
        `${which} share the uuid ${uuid ? `"${uuid}"` : '"" (never saved since the install)'} and ${why}: written back, each would get the password of the last one. ` +
          `In Listmonk's Settings, type the password of each of them again and save once (every entry then gets its own uuid); then run this again.`,
      );
    }
  }
  return risks;
}
