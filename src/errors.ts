/**
 * The few typed errors of the program, one per phase that can fail. The CLI's single top-level
 * handler (src/cli/main.ts) maps them to exit codes; only InternalError prints a stack.
 * Every message says what to do next, not only what went wrong.
 */
export type Phase = 'usage' | 'config' | 'input' | 'external' | 'gate' | 'findings' | 'internal';

export const EXIT = { ok: 0, failed: 1, usage: 2, refused: 3 } as const;

export interface ErrorOptions {
  cause?: unknown;
  /**
   * The run summary of a stage that did its work but must still fail (e.g. check-mx marking
   * domains unknown behind a lying resolver): --json prints its keys beside the error, and the
   * run ledger keeps it as the run's counts.
   */
  summary?: Record<string, unknown>;
}

export abstract class AudienceError extends Error {
  abstract readonly phase: Phase;
  abstract readonly exitCode: number;
  readonly summary: Record<string, unknown> | undefined;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.summary = options?.summary;
  }
}

/** Bad command line: unknown flag, wrong value. Exit 2. */
export class UsageError extends AudienceError {
  readonly phase = 'usage';
  readonly exitCode = EXIT.usage;
}

/** Bad or missing configuration (env, audience.config.json). Exit 2. */
export class ConfigError extends AudienceError {
  readonly phase = 'config';
  readonly exitCode = EXIT.usage;
}

/** The input (a census file, a mail.log, an import CSV) cannot be used as a whole. Exit 1. */
export class InputError extends AudienceError {
  readonly phase = 'input';
  readonly exitCode = EXIT.failed;
}

/** A service we depend on (PostgreSQL, DNS, Listmonk) failed. `retryable` tells whether a later
 *  run may succeed without anyone changing anything. Exit 1. */
export class ExternalServiceError extends AudienceError {
  /** 'external' and exit 1, unless the service says our configuration is wrong (ListmonkAuthError: 'config', exit 2). */
  readonly phase: Phase = 'external';
  readonly exitCode: number = EXIT.failed;
  readonly service: string;
  readonly retryable: boolean;
  constructor(service: string, message: string, options?: ErrorOptions & { retryable?: boolean }) {
    super(message, options);
    this.service = service;
    this.retryable = options?.retryable ?? false;
  }
}

/** A safety gate refused the run: warmup cap reached, a hold, DKIM coverage, pending migrations.
 *  Nothing was pushed. Exit 3. */
export class SafetyGateError extends AudienceError {
  readonly phase = 'gate';
  readonly exitCode = EXIT.refused;
  readonly gate: string;
  constructor(gate: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.gate = gate;
  }
}

/**
 * The command did its whole job and found something a person must act on (an audit's offending
 * campaigns, a setting saved but not in force). Exit 1, so cron notices; the summary carries the
 * findings (--json prints its keys beside the error, the run ledger keeps them).
 */
export class FindingsError extends AudienceError {
  readonly phase = 'findings';
  readonly exitCode = EXIT.failed;
}

/** A bug: an invariant of our own code was broken. Exit 1 with a stack. */
export class InternalError extends AudienceError {
  readonly phase = 'internal';
  readonly exitCode = EXIT.failed;
}

export function isAudienceError(e: unknown): e is AudienceError {
  return e instanceof AudienceError;
}
