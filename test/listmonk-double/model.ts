/**
 * In-memory data of the Listmonk test double: what Listmonk keeps in PostgreSQL (lists,
 * subscribers, subscriptions, campaigns, settings) plus the importer's in-process state.
 * A test fixture: it reproduces Listmonk's behaviour as its Go handlers implement it (knadh/listmonk cmd/).
 */
import { randomUUID } from 'node:crypto';

export type SubStatus = 'enabled' | 'disabled' | 'blocklisted';
export type SubscriptionStatus = 'unconfirmed' | 'confirmed' | 'unsubscribed';
export type CampaignStatus = 'draft' | 'scheduled' | 'running' | 'paused' | 'cancelled' | 'finished';

export interface ListRow {
  id: number;
  uuid: string;
  name: string;
  type: string;
  optin: string;
  status: string;
  tags: string[];
  description: string;
  created_at: string;
  updated_at: string;
}

export interface SubscriberRow {
  id: number;
  uuid: string;
  email: string;
  name: string;
  attribs: Record<string, unknown>;
  status: SubStatus;
  created_at: string;
  updated_at: string;
}

export interface SubscriptionRow {
  status: SubscriptionStatus;
  created_at: string;
  updated_at: string;
}

export interface CampaignRow {
  id: number;
  uuid: string;
  type: string;
  name: string;
  subject: string;
  from_email: string;
  body: string;
  altbody: string | null;
  send_at: string | null;
  status: CampaignStatus;
  content_type: string;
  tags: string[];
  headers: unknown[];
  template_id: number | null;
  messenger: string;
  lists: { id: number; name: string }[];
  /** Set when it starts running (next-campaigns): its recipients then, and how many were sent. */
  to_send: number;
  sent: number;
  started_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface TemplateRow {
  id: number;
  name: string;
  type: 'campaign' | 'campaign_visual' | 'tx';
  is_default: boolean;
}

export class Model {
  /** The double's clock: the product's clock in a test that pins one, so "now" is the same on both sides. */
  constructor(readonly clock: () => Date = () => new Date()) {}

  nowIso(): string {
    return this.clock().toISOString();
  }

  lists = new Map<number, ListRow>();
  subscribers = new Map<number, SubscriberRow>();
  /** subscriber id → list id → subscription */
  subscriptions = new Map<number, Map<number, SubscriptionRow>>();
  campaigns = new Map<number, CampaignRow>();
  /** The settings table, as stored (secrets in clear). The server fills it for its version: ./settings.ts. */
  settings: Record<string, unknown> = {};
  /** A settings write was answered `needs_restart` (a campaign was running): applied at the next restart. */
  needsRestart = false;
  /** As a fresh install has them (install.go); the visual one exists from v5 on. */
  templates = new Map<number, TemplateRow>(
    [
      { id: 1, name: 'Default campaign template', type: 'campaign', is_default: true },
      { id: 2, name: 'Default archive template', type: 'campaign', is_default: false },
      { id: 3, name: 'Sample transactional template', type: 'tx', is_default: false },
      { id: 4, name: 'Default visual template', type: 'campaign_visual', is_default: false },
    ].map((t): [number, TemplateRow] => [t.id, t as TemplateRow]),
  );
  private seq = { list: 0, subscriber: 0, campaign: 0 };

  addList(l: Partial<ListRow> & { name: string }): ListRow {
    const t = this.nowIso();
    const row: ListRow = {
      id: ++this.seq.list,
      uuid: randomUUID(),
      type: 'private',
      optin: 'single',
      status: 'active',
      tags: [],
      description: '',
      created_at: t,
      updated_at: t,
      ...l,
    };
    this.lists.set(row.id, row);
    return row;
  }

  deleteList(id: number): void {
    this.lists.delete(id);
    for (const subs of this.subscriptions.values()) subs.delete(id); // ON DELETE CASCADE
    for (const c of this.campaigns.values()) c.lists = c.lists.map((l) => (l.id === id ? { id: 0, name: l.name } : l));
  }

  /** The unique index on LOWER(email). Rebuilt by `reindex()` after a rollback. */
  private byEmail = new Map<string, number>();

  findByEmail(email: string): SubscriberRow | undefined {
    const id = this.byEmail.get(email.toLowerCase());
    return id === undefined ? undefined : this.subscribers.get(id);
  }

  reindex(): void {
    this.byEmail = new Map([...this.subscribers.values()].map((s) => [s.email.toLowerCase(), s.id]));
  }

  deleteSubscriber(id: number): void {
    const s = this.subscribers.get(id);
    if (s) this.byEmail.delete(s.email.toLowerCase());
    this.subscribers.delete(id);
    this.subscriptions.delete(id); // ON DELETE CASCADE
  }

  addSubscriber(s: { email: string; name: string; attribs?: Record<string, unknown>; status?: SubStatus }): SubscriberRow {
    const t = this.nowIso();
    const row: SubscriberRow = { id: ++this.seq.subscriber, uuid: randomUUID(), attribs: {}, status: 'enabled', created_at: t, updated_at: t, ...s };
    this.subscribers.set(row.id, row);
    this.byEmail.set(row.email.toLowerCase(), row.id);
    this.subscriptions.set(row.id, new Map());
    return row;
  }

  /** `ON CONFLICT DO UPDATE`: `status` undefined keeps an existing subscription's status. */
  subscribe(subId: number, listId: number, status: SubscriptionStatus | undefined, newStatus: SubscriptionStatus = 'unconfirmed'): void {
    if (!this.lists.has(listId) || !this.subscribers.has(subId)) return; // FK: unknown ids are ignored
    const subs = this.subscriptions.get(subId)!;
    const existing = subs.get(listId);
    const t = this.nowIso();
    if (existing) {
      if (status) subs.set(listId, { ...existing, status, updated_at: t });
    } else subs.set(listId, { status: status ?? newStatus, created_at: t, updated_at: t });
  }

  blocklist(subId: number): void {
    const s = this.subscribers.get(subId);
    if (!s) return;
    s.status = 'blocklisted';
    s.updated_at = this.nowIso();
    for (const [listId, sub] of this.subscriptions.get(subId) ?? []) this.subscriptions.get(subId)!.set(listId, { ...sub, status: 'unsubscribed' });
  }

  /** `visibleList` false: masked like maskRestrictedSubLists (`*Unknown`, restricted, no description). */
  subscriberJson(s: SubscriberRow, visibleList: (id: number) => boolean = () => true) {
    const lists = [...(this.subscriptions.get(s.id) ?? new Map<number, SubscriptionRow>())]
      .filter(([id]) => this.lists.has(id))
      .map(([id, sub]) => {
        const l = this.lists.get(id)!;
        const masked = visibleList(id) ? {} : { name: '*Unknown', restricted: true, description: undefined };
        return {
          id,
          uuid: l.uuid,
          name: l.name,
          type: l.type,
          optin: l.optin,
          status: l.status,
          tags: l.tags,
          description: l.description,
          subscription_status: sub.status,
          subscription_created_at: sub.created_at,
          subscription_updated_at: sub.updated_at,
          subscription_meta: {},
          created_at: l.created_at,
          updated_at: l.updated_at,
          ...masked,
        };
      });
    return { ...s, lists };
  }

  listJson(l: ListRow) {
    const statuses: Record<string, number> = {};
    let count = 0;
    for (const subs of this.subscriptions.values()) {
      const sub = subs.get(l.id);
      if (!sub) continue;
      count++;
      statuses[sub.status] = (statuses[sub.status] ?? 0) + 1;
    }
    return { ...l, subscriber_count: count, subscriber_statuses: statuses };
  }

  addCampaign(c: Omit<CampaignRow, 'id' | 'uuid' | 'created_at' | 'updated_at' | 'to_send' | 'sent' | 'started_at'> & Partial<Pick<CampaignRow, 'to_send' | 'sent' | 'started_at'>>): CampaignRow {
    const t = this.nowIso();
    const row: CampaignRow = { to_send: 0, sent: 0, started_at: null, ...c, id: ++this.seq.campaign, uuid: randomUUID(), created_at: t, updated_at: t };
    this.campaigns.set(row.id, row);
    return row;
  }

  /**
   * Whom Listmonk's sender mails for a campaign (`next-campaign-subscribers`): never a blocklisted
   * subscriber; on a double opt-in list only confirmed subscriptions, on a single opt-in list all
   * but unsubscribed ones; an optin campaign only unconfirmed ones of double opt-in lists.
   */
  recipients(c: CampaignRow): Set<number> {
    const out = new Set<number>();
    for (const ref of c.lists) {
      const list = this.lists.get(ref.id);
      if (!list) continue;
      for (const [subId, subs] of this.subscriptions) {
        const sub = subs.get(list.id);
        if (!sub || this.subscribers.get(subId)?.status === 'blocklisted') continue;
        const mailed =
          c.type === 'optin' ? list.optin === 'double' && sub.status === 'unconfirmed' : list.optin === 'double' ? sub.status === 'confirmed' : sub.status !== 'unsubscribed';
        if (mailed) out.add(subId);
      }
    }
    return out;
  }

  /** What `next-campaigns` does when it picks a campaign up: running, its to_send counted, started now. */
  start(c: CampaignRow): void {
    c.status = 'running';
    c.to_send = this.recipients(c).size;
    c.started_at ??= this.nowIso();
    c.updated_at = this.nowIso();
  }
}
