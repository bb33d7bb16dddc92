/**
 * Who a Listmonk campaign would mail, read through the API: each list of the campaign once (its
 * opt-in type and count from GET /api/lists/{id}, its members page by page), then the members
 * Listmonk's own sender picks (queries/campaigns.sql `next-campaign-subscribers`, every version):
 * never a blocklisted subscriber; on a double opt-in list only confirmed subscriptions, on a single
 * opt-in list every subscription but unsubscribed ones; an `optin` campaign only unconfirmed
 * subscriptions of double opt-in lists. A subscriber on several of the campaign's lists gets one mail.
 */
import type { ListmonkCampaign, ListmonkClient, ListOptin, SubscriptionStatus } from '../listmonk/index.ts';

export interface AuditedList {
  id: number;
  name: string;
  optin: ListOptin;
  /** Subscribers on the list in any state, as read now. */
  members: number;
  /** Listmonk's own count (a materialized view it refreshes now and then: may lag); null when the list is gone. */
  subscribers: number | null;
  /** Deleted (the campaign keeps its name) or no longer visible: it mails no one. */
  missing: boolean;
}

interface Member {
  id: number;
  email: string;
  status: SubscriptionStatus;
}

interface LoadedList {
  list: AuditedList;
  /** Subscribers that are not blocklisted, with their subscription to this list. */
  members: Member[];
}

export interface CampaignRecipients {
  /** Subscriber id → e-mail as Listmonk stores it. */
  recipients: Map<number, string>;
  lists: (AuditedList & { recipients: number })[];
}

function mails(type: ListmonkCampaign['type'], optin: ListOptin, status: SubscriptionStatus): boolean {
  if (type === 'optin') return optin === 'double' && status === 'unconfirmed';
  return optin === 'double' ? status === 'confirmed' : status !== 'unsubscribed';
}

/** Reads lists on first use and keeps them for the other campaigns that share them. */
export class ListReader {
  private readonly loaded = new Map<number, Promise<LoadedList>>();

  constructor(private readonly lm: ListmonkClient) {}

  private load(id: number, name: string): Promise<LoadedList> {
    let p = this.loaded.get(id);
    if (!p) {
      p = this.read(id, name);
      this.loaded.set(id, p);
    }
    return p;
  }

  private async read(id: number, name: string): Promise<LoadedList> {
    // Listmonk keeps a deleted list in the campaign as id 0 with its old name.
    const list = id > 0 ? await this.lm.getList(id) : null;
    if (!list) return { list: { id, name, optin: 'single', members: 0, subscribers: null, missing: true }, members: [] };
    const members: Member[] = [];
    let all = 0;
    await this.lm.eachListMemberPage(id, (rows) => {
      for (const s of rows) {
        all++;
        if (s.status === 'blocklisted') continue;
        const sub = s.lists?.find((l) => l.id === id);
        if (sub) members.push({ id: s.id, email: s.email, status: sub.subscription_status });
      }
    });
    return { list: { id, name: list.name, optin: list.optin ?? 'single', members: all, subscribers: list.subscriber_count ?? null, missing: false }, members };
  }

  async recipientsOf(c: ListmonkCampaign): Promise<CampaignRecipients> {
    const recipients = new Map<number, string>();
    const lists: CampaignRecipients['lists'] = [];
    for (const ref of c.lists ?? []) {
      const { list, members } = await this.load(ref.id, ref.name);
      let n = 0;
      for (const m of members) {
        if (!mails(c.type, list.optin, m.status)) continue;
        n++;
        recipients.set(m.id, m.email);
      }
      lists.push({ ...list, recipients: n });
    }
    return { recipients, lists };
  }
}
