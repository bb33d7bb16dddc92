/**
 * The Listmonk contract (test/listmonk-contract/cases.ts) against the double and against a real
 * Listmonk v6.2.0 (scripts/listmonk.sh). The real run skips with a one-line note where Listmonk
 * cannot be built or started here.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { describeReal } from './helpers/real-listmonk.ts';
import { CASES } from './listmonk-contract/cases.ts';
import { doubleTarget, realTarget, type ContractTarget } from './listmonk-contract/target.ts';

function contract(start: () => Promise<ContractTarget>) {
  let t: ContractTarget;
  beforeAll(async () => {
    t = await start();
  });
  afterAll(async () => {
    await t?.stop();
  });
  for (const c of CASES) it(c.name, () => c.run(t));
}

describe('Listmonk contract: the double (v6.2.0)', () => contract(() => doubleTarget('v6.2.0')));
describeReal('Listmonk contract: a real Listmonk v6.2.0', () => contract(() => realTarget()));
