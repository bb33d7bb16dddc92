/**
 * Hand-written wire types for the endpoints we use. The OpenAPI spec is
 * wrong in places, so these follow the Go handlers. Only the fields we read are required.
 */

export interface PageResults<T> {
  results: T[];
  total: number;
  page: number;
  per_page: number;
}

export type ListType = 'public' | 'private' | 'temporary';
export type ListOptin = 'single' | 'double';

export interface ListmonkList {
  id: number;
  uuid?: string;
  name: string;
  type?: ListType;
  optin?: ListOptin;
  tags?: string[];
  description?: string;
  /** Every subscription, unsubscribed ones included; from a materialized view (can be stale). Absent with `minimal=true`. */
  subscriber_count?: number;
}

export type SubscriberStatus = 'enabled' | 'disabled' | 'blocklisted';
export type SubscriptionStatus = 'unconfirmed' | 'confirmed' | 'unsubscribed';

export interface SubscriberListRef {
  id: number;
  name?: string;
  subscription_status: SubscriptionStatus;
}

export interface ListmonkSubscriber {
  id: number;
  uuid?: string;
  email: string;
  name: string;
  status: SubscriberStatus;
  attribs: Record<string, unknown>;
  lists: SubscriberListRef[];
}

export type CampaignStatus = 'draft' | 'scheduled' | 'running' | 'paused' | 'cancelled' | 'finished';
export type CampaignContentType = 'richtext' | 'html' | 'markdown' | 'plain' | 'visual';

export type CampaignType = 'regular' | 'optin';

export interface ListmonkCampaign {
  id: number;
  uuid?: string;
  name: string;
  subject: string;
  status: CampaignStatus;
  /** `optin` campaigns go to unconfirmed subscriptions of double opt-in lists only. */
  type?: CampaignType;
  send_at: string | null;
  /** Set when the campaign starts: its recipients then, and how many were sent so far. */
  to_send?: number;
  sent?: number;
  started_at?: string | null;
  created_at?: string;
  updated_at?: string;
  content_type: CampaignContentType;
  tags: string[];
  lists: { id: number; name: string }[];
  template_id?: number | null;
  from_email?: string;
}

export type ImportState = 'none' | 'importing' | 'stopping' | 'finished' | 'failed';

export interface ImportStatus {
  name: string;
  total: number;
  imported: number;
  status: ImportState;
}
