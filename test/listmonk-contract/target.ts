/**
 * What a contract case talks to: the double, or a real Listmonk. Both are driven as the pipeline's
 * API user (the permissions of PIPELINE_PERMS, no sql_query), raw over HTTP or through our client;
 * set-up that only an administrator does (other API users with fewer rights, a recipient's click
 * on "unsubscribe") goes through `apiUser` and `unsubscribeClick`, which each target does its way.
 */
import { randomBytes } from 'node:crypto';
import { createListmonkClient, type ListmonkClient } from '../../src/listmonk/client.ts';
import { listmonkConfigSchema, type ListmonkConfig } from '../../src/listmonk/config.ts';
import { startRealListmonk, type RealListmonk } from '../helpers/real-listmonk.ts';
import { call, type CallOptions } from '../listmonk-double/call.ts';
import { DEFAULT_USER, ListmonkDouble, PIPELINE_PERMS } from '../listmonk-double/index.ts';

export type ListGrant = 'get' | 'manage';

export interface ContractTarget {
  readonly kind: 'double' | 'real';
  readonly url: string;
  /** Raw HTTP as the pipeline user (or as `opts.auth`). */
  call(method: string, path: string, opts?: CallOptions): ReturnType<typeof call>;
  /** Our client as the pipeline user (or the given user), reading `now` as its clock. */
  client(over?: Partial<ListmonkConfig>, now?: () => Date): ListmonkClient;
  /** A new API user with these role permissions and per-list grants; returns its Authorization header and credentials. */
  apiUser(perms: string[], lists?: Record<number, ListGrant[]>): Promise<{ auth: string; user: string; token: string }>;
  /** The server's clock ("in the future" is Listmonk's judgement): the double's clock, or a real server's Date header. */
  now(): Promise<Date>;
  /** A recipient's click on a campaign's unsubscribe link: POST /subscription/{campaign}/{subscriber}. */
  unsubscribeClick(campaignUuid: string, subscriberUuid: string): Promise<number>;
  stop(): Promise<void>;
}

/** A name no earlier case on the same server used. */
export const unique = (prefix: string) => `${prefix} ${randomBytes(4).toString('hex')}`;

const tokenHeader = (user: string, token: string) => `token ${user}:${token}`;

function clientAt(url: string, user: string, token: string, over: Partial<ListmonkConfig>, now?: () => Date): ListmonkClient {
  return createListmonkClient(
    listmonkConfigSchema.parse({ url, apiUser: user, apiToken: token, retryBaseMs: 5, retryMaxMs: 50, importPollMs: 20, timeoutMs: 10_000, ...over }),
    now ? { now } : {},
  );
}

/** A real server's clock, from its Date header: the tests' own clock may be faked (faketime), Listmonk's is not. */
export async function serverClock(url: string): Promise<Date> {
  const res = await fetch(`${url}/health`);
  await res.arrayBuffer();
  const date = res.headers.get('date');
  if (!date) throw new Error(`${url}/health sent no Date header`);
  return new Date(date);
}

export async function doubleTarget(version = 'v6.2.0'): Promise<ContractTarget> {
  const d = await ListmonkDouble.start({ version });
  const pipeline = tokenHeader(DEFAULT_USER.username, DEFAULT_USER.token);
  return {
    kind: 'double',
    url: d.url,
    call: (method, path, opts = {}) => call(d.url, method, path, { auth: pipeline, ...opts }),
    client: (over = {}, now = () => d.model.clock()) => clientAt(d.url, over.apiUser ?? DEFAULT_USER.username, over.apiToken ?? DEFAULT_USER.token, over, now),
    async apiUser(perms, lists = {}) {
      const user = `u${randomBytes(4).toString('hex')}`;
      const token = randomBytes(16).toString('hex');
      d.setUser({ username: user, token, perms, lists });
      return { auth: tokenHeader(user, token), user, token };
    },
    now: async () => d.model.clock(),
    async unsubscribeClick(campaignUuid, subscriberUuid) {
      const res = await fetch(`${d.url}/subscription/${campaignUuid}/${subscriberUuid}`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: '' });
      return res.status;
    },
    stop: () => d.stop(),
  };
}

/**
 * A real Listmonk: the install's API user (Super Admin) only sets things up; the cases run as a
 * `pipeline` API user whose role has exactly PIPELINE_PERMS, as the double's default user does.
 */
export async function realTarget(started?: RealListmonk): Promise<ContractTarget & { server: RealListmonk }> {
  const server = started ?? (await startRealListmonk());
  const admin = tokenHeader(server.apiUser, server.apiToken);
  const createUser = async (perms: string[], lists: Record<number, ListGrant[]> = {}) => {
    const tag = randomBytes(4).toString('hex');
    const role = await call(server.url, 'POST', '/api/roles/users', { auth: admin, json: { name: `role ${tag}`, permissions: perms } });
    if (role.status !== 200) throw new Error(`creating a user role: ${role.status} ${JSON.stringify(role.body)}`);
    let listRoleId: number | undefined;
    if (Object.keys(lists).length) {
      const lr = await call(server.url, 'POST', '/api/roles/lists', {
        auth: admin,
        json: { name: `lists ${tag}`, lists: Object.entries(lists).map(([id, g]) => ({ id: Number(id), permissions: g.map((x) => `list:${x}`) })) },
      });
      if (lr.status !== 200) throw new Error(`creating a list role: ${lr.status} ${JSON.stringify(lr.body)}`);
      listRoleId = lr.body.data.id;
    }
    const user = `u${tag}`;
    const u = await call(server.url, 'POST', '/api/users', {
      auth: admin,
      json: { username: user, name: user, email: `${user}@api.test`, type: 'api', status: 'enabled', user_role_id: role.body.data.id, ...(listRoleId ? { list_role_id: listRoleId } : {}) },
    });
    if (u.status !== 200) throw new Error(`creating an API user: ${u.status} ${JSON.stringify(u.body)}`);
    const token = u.body.data.password as string;
    return { auth: tokenHeader(user, token), user, token };
  };
  const pipeline = await createUser([...PIPELINE_PERMS], {});
  return {
    kind: 'real',
    url: server.url,
    server,
    call: (method, path, opts = {}) => call(server.url, method, path, { auth: pipeline.auth, ...opts }),
    client: (over = {}, now) => clientAt(server.url, over.apiUser ?? pipeline.user, over.apiToken ?? pipeline.token, over, now),
    apiUser: createUser,
    now: () => serverClock(server.url),
    async unsubscribeClick(campaignUuid, subscriberUuid) {
      const res = await fetch(`${server.url}/subscription/${campaignUuid}/${subscriberUuid}`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: '' });
      return res.status;
    },
    stop: () => server.stop(),
  };
}
