/**
 * Every subcommand of `audience`, in the order `--help` lists them. Each module declares its flags
 * and help, and loads its pipeline lazily so `audience --help` stays fast.
 */
import type { Command } from 'commander';
import { register as auditListmonk } from './audit-listmonk.ts';
import { register as build } from './build.ts';
import { register as checkMx } from './check-mx.ts';
import { register as doctor } from './doctor.ts';
import { register as explain } from './explain.ts';
import { register as ingest } from './ingest.ts';
import { register as migrate } from './migrate.ts';
import { register as nightly } from './nightly.ts';
import { register as normalize } from './normalize.ts';
import { register as plan } from './plan.ts';
import { register as rampcap } from './rampcap.ts';
import { register as report } from './report.ts';
import { register as scrubBounces } from './scrub-bounces.ts';
import { register as status } from './status.ts';
import { register as suppress } from './suppress.ts';
import { register as syncListmonk } from './sync-listmonk.ts';
import { register as unsuppress } from './unsuppress.ts';
import { register as unhold } from './unhold.ts';

export const COMMANDS: ReadonlyArray<(program: Command) => void> = [migrate, ingest, normalize, explain, checkMx, scrubBounces, nightly, suppress, unsuppress, unhold, syncListmonk, build, plan, status, report, auditListmonk, rampcap, doctor];
