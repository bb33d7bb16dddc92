-- Free space in each page of emails and email_sources (issue #15): a monthly refresh updates tens
-- of thousands of their rows in place (an address's carrier_count, a carrier's normalized field),
-- and with pages packed full each update moved the row to another page, writing a new entry in
-- every index and a full-page image to the WAL. With 10% left free the update stays in its page
-- (HOT: measured on a refresh, 49,840 of 50,075 carrier-count updates and all 59,452 email_sources
-- updates) and no index is touched. Only pages written from now on keep the space: nothing is
-- rewritten here, a first load (COPY into the empty tables) fills its pages to 90%.
alter table emails set (fillfactor = 90);
alter table email_sources set (fillfactor = 90);
