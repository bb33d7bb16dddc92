/**
 * The Listmonk permissions `audience build` needs, by version (permissions.json and the pm()
 * guards of cmd/handlers.go in knadh/listmonk): lists (create the day's list, see every list),
 * subscribers (look up, add to lists), import (bulk pushes), campaigns (find, create, schedule),
 * settings:get (the sliding-window check). Before v4 there are no permissions: the config.toml
 * admin may do everything.
 *
 * The Super Admin role passes every pm() guard, but list filtering (FilterListsByPerm) reads the
 * role's permission list, not its id: the legacy config.toml credential of v4+ is a Super Admin with
 * no permissions, which may call every route and yet has every list silently dropped (issue #2111).
 * So the list permissions are judged on the list, for every user.
 */
import { SUPER_ADMIN_ROLE_ID, type ListmonkProfile } from './account.ts';
import { atLeast, type ServerVersion } from './version.ts';

export interface PermissionNeed {
  /** What the build does with it, for the operator. */
  what: string;
  /** Any one of these grants it (the pm() guard accepts any of its permissions). */
  anyOf: string[];
  /** Checked on the role's permission list even for a Super Admin (list filtering). */
  listFiltering?: boolean;
}

export function buildPermissionNeeds(v: ServerVersion): PermissionNeed[] {
  if (!atLeast(v, 4)) return [];
  const v5 = atLeast(v, 5);
  return [
    { what: 'see every list', anyOf: ['lists:get_all'], listFiltering: true },
    { what: "create the day's lists and add to them", anyOf: ['lists:manage_all'], listFiltering: true },
    { what: 'look subscribers up', anyOf: ['subscribers:get_all'] },
    { what: 'create subscribers and add them to lists', anyOf: ['subscribers:manage'] },
    { what: 'bulk-import large pushes', anyOf: ['subscribers:import'] },
    { what: 'find campaigns', anyOf: v5 ? ['campaigns:get_all', 'campaigns:get'] : ['campaigns:get'] },
    { what: 'create campaigns', anyOf: v5 ? ['campaigns:manage_all', 'campaigns:manage'] : ['campaigns:manage'] },
    ...(atLeast(v, 6, 1) ? [{ what: 'schedule campaigns', anyOf: ['campaigns:send'] }] : []),
    { what: "read the sliding window (Settings → Performance)", anyOf: ['settings:get'] },
  ];
}

/** Not needed, but each spares a slower path or lets `doctor` check more. */
export function optionalPermissions(v: ServerVersion): PermissionNeed[] {
  if (!atLeast(v, 4)) return [];
  return [
    ...(atLeast(v, 5) ? [{ what: 'look subscribers up by SQL (else a regex search per address)', anyOf: ['subscribers:sql_query'] }] : []),
    { what: 'let doctor check the campaign template', anyOf: ['templates:get'] },
  ];
}

export interface PermissionVerdict {
  superAdmin: boolean;
  /** Super Admin with an empty permission list: the config.toml admin of v4+ (has_legacy_user). */
  legacy: boolean;
  missing: PermissionNeed[];
  missingOptional: PermissionNeed[];
}

export function judgePermissions(p: ListmonkProfile, v: ServerVersion): PermissionVerdict {
  const held = new Set(p.role.permissions);
  const superAdmin = p.role.id === SUPER_ADMIN_ROLE_ID;
  const lacks = (n: PermissionNeed) => !n.anyOf.some((x) => held.has(x)) && (!superAdmin || n.listFiltering === true);
  return {
    superAdmin,
    legacy: superAdmin && held.size === 0,
    missing: buildPermissionNeeds(v).filter(lacks),
    missingOptional: optionalPermissions(v).filter(lacks),
  };
}

/** `lists:manage_all (create the day's lists...)`, or `campaigns:get_all or campaigns:get (...)`. */
export function describeNeed(n: PermissionNeed): string {
  return `${n.anyOf.join(' or ')} (${n.what})`;
}
