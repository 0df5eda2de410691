-- migrate:up
-- A waiting entry's position in constant time (docs/waiting-room.md#positions). Counting
-- the waiting entries ahead made every join and poll cost as much as the queue is long
-- (a new entry is at the back: it counted the whole queue). Instead, once the room is
-- open, the admission sweep gives the entries that joined since its last run dense ranks
-- in `place` order (1, 2, 3, ... per event) and admits in rank order, and queue_admission
-- counts the entries ranked and admitted so far. A ranked waiting entry's position is then
-- rank - admitted; an entry not ranked yet (joined since the last sweep, or before the
-- start) stands behind every ranked waiting entry and among the few unranked ones by
-- place, counted only above the highest place ranked so far (`ranked_through`): below it
-- the index holds the ranked entries' dead versions until vacuum, and counting those
-- would cost as much as the queue is long again.
ALTER TABLE queue_entries ADD COLUMN rank bigint;
ALTER TABLE queue_admission
    ADD COLUMN ranked bigint NOT NULL DEFAULT 0,
    ADD COLUMN admitted bigint NOT NULL DEFAULT 0,
    ADD COLUMN ranked_through double precision;

-- The ranks of the queues as they stand: every entry ever admitted (in the place order it
-- was admitted in), then the waiting entries of rooms already open, by place. Waiting
-- entries of rooms not open yet stay unranked: their lottery is drawn at the start.
WITH ranked AS (
    SELECT q.id, q.event_id, q.status, q.place,
           row_number() OVER (PARTITION BY q.event_id ORDER BY q.status = 'waiting', q.place, q.id) AS rank
      FROM queue_entries q
      JOIN events e ON e.id = q.event_id
     WHERE q.status <> 'waiting'
        OR greatest(e.queue_opened_at, coalesce(e.sale_starts_at, '-infinity')) <= now()
), ranks AS (
    UPDATE queue_entries q SET rank = ranked.rank FROM ranked WHERE q.id = ranked.id
)
UPDATE queue_admission a
   SET ranked = totals.ranked, admitted = totals.admitted, ranked_through = totals.ranked_through
  FROM (SELECT event_id, count(*) AS ranked, count(*) FILTER (WHERE status <> 'waiting') AS admitted,
               max(place) AS ranked_through
          FROM ranked GROUP BY event_id) AS totals
 WHERE a.event_id = totals.event_id;

DROP INDEX queue_entries_waiting_idx;
-- the next to admit, in rank order
CREATE INDEX queue_entries_ranked_idx ON queue_entries (event_id, rank)
    WHERE status = 'waiting' AND rank IS NOT NULL;
-- the entries the next sweep ranks, and an unranked entry's place among them
CREATE INDEX queue_entries_unranked_idx ON queue_entries (event_id, place)
    WHERE status = 'waiting' AND rank IS NULL;

-- migrate:down
DROP INDEX queue_entries_unranked_idx;
DROP INDEX queue_entries_ranked_idx;
CREATE INDEX queue_entries_waiting_idx ON queue_entries (event_id, place) WHERE status = 'waiting';
ALTER TABLE queue_admission DROP COLUMN ranked_through, DROP COLUMN admitted, DROP COLUMN ranked;
ALTER TABLE queue_entries DROP COLUMN rank;
