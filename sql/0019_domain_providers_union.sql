-- domain_providers, the same rows in a shape the planner can probe by domain. As a full join
-- (0004), a condition on its domain is a condition on coalesce(f.domain, m.domain), which
-- PostgreSQL cannot push into either side: asking for one domain's provider read all of
-- mx_domains (~0.15 s at 200k domains; `explain` of one address paid it through provider_hold).
-- As a union, `domain = X` reaches mx_domains' primary key, and a whole-table read is the same
-- sequential scan as before (or a parallel one).
--
-- The same rows as the full join because mx_provider_fallback.domain is its primary key (unique,
-- not null) and its provider is not null, and mx_domains.domain is its primary key: each fallback
-- row gives one row (domain, fallback provider: coalesce keeps it); each mx_domains row with a
-- provider and no fallback row gives (domain, its provider); nothing else. test/holds-scope.db.test.ts
-- holds the two definitions against each other.
create or replace view domain_providers as
select f.domain, f.provider from mx_provider_fallback f
union all
select m.domain, m.provider from mx_domains m
where m.provider is not null and not exists (select 1 from mx_provider_fallback f where f.domain = m.domain);

comment on view domain_providers is 'domain -> mailbox provider: mx_provider_fallback (curated consumer domains) over mx_domains.provider.';
