/**
 * The Kysely type of the whole database: each area declares its own tables beside its code and
 * they are assembled here. Migrations in sql/ are the truth; these types follow them.
 */
import type { CensusTables } from '../census/tables.ts';
import type { CoreTables } from './core-tables.ts';
import type { EmailTables } from '../email/tables.ts';
import type { MxTables } from '../mx/tables.ts';
import type { MaillogTables } from '../maillog/tables.ts';
import type { BuildTables } from '../push/tables.ts';
import type { OptOutTables } from '../optouts/tables.ts';

export interface Database extends CoreTables, CensusTables, EmailTables, MxTables, MaillogTables, BuildTables, OptOutTables {}
