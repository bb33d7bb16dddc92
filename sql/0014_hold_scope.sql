-- Holds by scope (issue #14). A reputation signal from one self-hosted mail server (a single
-- "550 Too many invalid recipients") put the whole provider `other` on hold: every address of every
-- small domain left the build. A big provider (google, microsoft365, ...) judges the sender as a
-- whole, so its signal still holds the provider; a server of `other` judges only its own mail, so
-- its signal now holds the receiving domain, and any domain whose MX is the same server.
--
-- scope 'domain': `domain` is the receiving domain, `mx_host` the server that answered (null when
-- the log did not name one); `provider` is null.
alter table holds add column domain text check (domain = lower(domain));
alter table holds add column mx_host text check (mx_host = lower(mx_host));

-- The checks of 0005 name the scopes; they are replaced, whatever name the server gave them.
do $$
declare c record;
begin
  for c in select conname from pg_constraint
            where conrelid = 'holds'::regclass and contype = 'c' and pg_get_constraintdef(oid) like '%scope%'
  loop
    execute format('alter table holds drop constraint %I', c.conname);
  end loop;
end $$;
alter table holds add constraint holds_scope_check check (scope in ('provider', 'domain', 'global'));
alter table holds add constraint holds_subject_check check (
  (scope = 'global' and provider is null and domain is null) or
  (scope = 'provider' and provider is not null and domain is null) or
  (scope = 'domain' and provider is null and domain is not null)
);

drop index holds_current_idx;
create unique index holds_current_idx on holds (scope, coalesce(provider, ''), coalesce(domain, ''), reason) where lifted_at is null;
