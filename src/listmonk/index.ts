/** Public surface of the Listmonk client; see client.ts for the API overview. */
export { createListmonkClient, listmonkNotConfigured, ListmonkClient, type ListmonkClientOptions, type PushResult, type PushStrategy } from './client.ts';
export { SUPER_ADMIN_ROLE_ID, type ListmonkProfile, type ListmonkTemplate, type ServerConfig } from './account.ts';
export type { BlocklistResult } from './blocklist.ts';
export type { CampaignQuery } from './campaign-list.ts';
export type { CampaignInput, EnsuredCampaign, StopAction, StoppedCampaign } from './campaigns.ts';
export { listmonkConfigSchema, type ListmonkConfig } from './config.ts';
export { ListmonkApiError, ListmonkAuthError, ListmonkImportError, ListmonkPermissionError, ListmonkUnavailableError, permissionsAsConfig } from './errors.ts';
export type { ImportOptions } from './import.ts';
export type { EnsuredList, EnsureListOptions } from './lists.ts';
export type { OptOutRead, OptOutSighting, OptOutStrategy, ReadOptOutsOptions } from './optouts.ts';
export {
  blankMaskedSecrets,
  describeWindow,
  parseGoDuration,
  sameWindow,
  slidingWindowOf,
  slidingWindowPerHour,
  slidingWindowWarning,
  windowPerHour,
  type SlidingWindow,
  type SlidingWindowWrite,
  type ThrottleSettings,
} from './settings.ts';
export { SETTINGS_REVIEWED_UP_TO, settingsWriteRisks } from './settings-safety.ts';
export { canonicalEmail, isOnList, type AddOptions, type PushOutcome, type PushStatus, type SubscriberInput } from './subscribers.ts';
export type * from './types.ts';
export type { ServerVersion } from './version.ts';
