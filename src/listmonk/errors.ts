/**
 * Typed Listmonk failures. All extend ExternalServiceError (exit 1), so the CLI handles them like
 * any other service failure; `retryable` says whether a later run may succeed unchanged.
 * Messages name the method and path, the status and the server's message, never a credential.
 */
import { ConfigError, EXIT, ExternalServiceError, type Phase } from '../errors.ts';

const SERVICE = 'listmonk';

/** The server answered with a non-2xx status (4xx at once, 5xx once retries are exhausted). */
export class ListmonkApiError extends ExternalServiceError {
  readonly status: number;
  /** The parsed JSON body (usually `{message}`), or the raw text when it was not JSON. */
  readonly body: unknown;
  readonly method: string;
  readonly path: string;
  constructor(
    init: { method: string; path: string; status: number; body: unknown; hint?: string },
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    const server = serverMessage(init.body);
    super(
      SERVICE,
      `Listmonk ${init.method} ${init.path} answered ${init.status}${server ? `: ${server}` : ''}.${init.hint ? ` ${init.hint}` : ''}`,
      { retryable: options?.retryable ?? init.status >= 500, ...(options?.cause !== undefined ? { cause: options.cause } : {}) },
    );
    this.status = init.status;
    this.body = init.body;
    this.method = init.method;
    this.path = init.path;
  }

  /** Listmonk's `{message}` text. Localised by the server: show it, never branch on it. */
  get serverMessage(): string | undefined {
    return serverMessage(this.body);
  }
}

/**
 * The API user lacks a permission. Either Listmonk said so (403), or it silently dropped lists
 * from a request (200 with fewer lists than sent), which Listmonk does for lists the user may not
 * manage. `permission` names what to grant in Admin → Users → Roles.
 */
export class ListmonkPermissionError extends ListmonkApiError {
  readonly permission: string;
  readonly listIds: readonly number[];
  constructor(init: { method: string; path: string; status: number; body: unknown; permission: string; listIds?: number[]; detail?: string }) {
    super({
      ...init,
      hint:
        `${init.detail ? init.detail + ' ' : ''}The Listmonk API user lacks the \`${init.permission}\` permission` +
        `${init.listIds?.length ? ` on list(s) ${init.listIds.join(', ')}` : ''}: grant it to the user's role in Listmonk (Admin → Users → Roles).`,
    });
    this.permission = init.permission;
    this.listIds = init.listIds ?? [];
  }
}

/**
 * Wrong user or token (403 on v4+, 401 on v2/v3). A configuration error, exit 2: nothing will
 * work until LISTMONK_API_USER/LISTMONK_API_TOKEN are fixed, and retrying changes nothing.
 */
export class ListmonkAuthError extends ListmonkApiError {
  override readonly phase: Phase = 'config';
  override readonly exitCode: number = EXIT.usage;
  constructor(init: { method: string; path: string; status: number; body: unknown }) {
    super({
      ...init,
      hint:
        'Check LISTMONK_API_USER and LISTMONK_API_TOKEN: on Listmonk v4+ they are an API user and its token (Admin → Users, type API), ' +
        'not a login password; on v2/v3 they are the admin username and password from config.toml.',
    });
  }
}

/** No usable answer after every attempt: connection refused or reset, DNS failure, timeout. */
export class ListmonkUnavailableError extends ExternalServiceError {
  readonly method: string;
  readonly path: string;
  readonly attempts: number;
  constructor(init: { method: string; path: string; attempts: number; reason: string }, options?: { cause?: unknown }) {
    super(
      SERVICE,
      `Listmonk ${init.method} ${init.path} failed after ${init.attempts} attempt(s): ${init.reason}. Check that LISTMONK_URL is reachable, then re-run (nothing is pushed twice).`,
      { retryable: true, ...(options?.cause !== undefined ? { cause: options.cause } : {}) },
    );
    this.method = init.method;
    this.path = init.path;
    this.attempts = init.attempts;
  }
}

/** A bulk import ended `failed`, was stopped by someone else, or could not start in time. */
export class ListmonkImportError extends ExternalServiceError {
  readonly importStatus: string;
  /** Listmonk's import log (GET /api/import/subscribers/logs), when it could be read. */
  readonly logs: string;
  constructor(message: string, init: { importStatus: string; logs?: string; retryable?: boolean }) {
    super(SERVICE, message, { retryable: init.retryable ?? true });
    this.importStatus = init.importStatus;
    this.logs = init.logs ?? '';
  }
}

export function serverMessage(body: unknown): string | undefined {
  if (body && typeof body === 'object' && 'message' in body && typeof (body as { message: unknown }).message === 'string')
    return (body as { message: string }).message;
  if (typeof body === 'string' && body.length > 0) return body.length > 200 ? body.slice(0, 200) + '…' : body;
  return undefined;
}

/**
 * For the operator commands that exist only to read or change Listmonk for a person
 * (audit-listmonk, rampcap): without the API user's permission they cannot do their job at all, so
 * a missing permission is configuration to fix (exit 2, like wrong credentials), not a failure a
 * later run might not have.
 */
export async function permissionsAsConfig<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ListmonkPermissionError) throw new ConfigError(e.message, { cause: e });
    throw e;
  }
}
