-- delivery_events.file_id without its foreign key. Its one writer, the scrub, takes the id from the
-- maillog_files row it has just read (the checkpoint it advances in the same transaction), and
-- maillog_files rows are never deleted, so the key guarded nothing; its check ran a trigger per
-- stored event, about a third of the server's cost of COPYing a batch of events.
alter table delivery_events drop constraint delivery_events_file_id_fkey;
