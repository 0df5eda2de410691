-- Several callers join one event's waiting room, in ONE statement: the group commit of
-- joins (ticketing/queue/service.py, QUEUE_BATCHING). Per caller exactly what
-- sql/queue/join.sql does for one, and never the event's row: parallel arrays in arrival
-- order (:'user_ids', :'token_versions'; one request per caller), one row per request
-- (`ord`, 1-based), with join.sql's columns. New entries after the start take their
-- places (queue_places) in arrival order; a new entry's position also counts the new
-- entries of this batch ahead of it (this statement's own inserts are not in its
-- snapshot). entry_id is NULL for a caller who is refused (see the flags) or whose
-- concurrent join elsewhere has not committed yet: the single statement answers those.
WITH request AS (
    SELECT r.user_id, r.token_version, r.ord
      FROM unnest(:'user_ids'::text[]::uuid[], :'token_versions'::int[])
           WITH ORDINALITY AS r (user_id, token_version, ord)
), event AS (
    SELECT id, remaining, sale_starts_at, queue_admit_per_minute, queue_opened_at,
           queue_admit_per_minute IS NOT NULL AS queued, date > now() AS open
      FROM events
     WHERE id = :'event_id'::uuid AND deleted_at IS NULL
), caller AS (
    SELECT request.ord, request.user_id, u.token_version,
           u.token_version = request.token_version AS valid
      FROM request
      LEFT JOIN users u ON u.id = request.user_id
), counts AS (  -- entries ranked and admitted so far (none before the first join's row exists)
    SELECT coalesce(max(a.ranked), 0) AS ranked, coalesce(max(a.admitted), 0) AS admitted,
           coalesce(max(a.ranked_through), '-infinity') AS ranked_through
      FROM queue_admission a
     WHERE a.event_id = :'event_id'::uuid
), allowed AS (
    SELECT caller.ord, caller.user_id, event.id AS event_id, event.sale_starts_at
      FROM event, caller
     WHERE event.queued AND event.open AND caller.valid
), retired AS (
    UPDATE queue_entries q
       SET status = 'expired'
      FROM allowed
     WHERE q.event_id = allowed.event_id AND q.user_id = allowed.user_id
       AND q.status = 'admitted' AND q.pass_expires_at <= now()
    RETURNING q.id
), bucket AS (
    INSERT INTO queue_admission (event_id)
    SELECT id FROM event WHERE EXISTS (SELECT 1 FROM allowed)
        ON CONFLICT (event_id) DO NOTHING
), joined AS (
    INSERT INTO queue_entries (event_id, user_id, place)
    SELECT arrival.event_id, arrival.user_id,
           CASE WHEN arrival.sale_starts_at > now() THEN random() ELSE nextval('queue_places') END
      FROM (SELECT * FROM allowed ORDER BY allowed.ord) AS arrival  -- places in arrival order
     WHERE (SELECT count(*) FROM retired) >= 0  -- after `retired`
        ON CONFLICT (event_id, user_id) WHERE status IN ('waiting', 'admitted') DO NOTHING
    RETURNING *
), existing AS (
    SELECT q.*
      FROM queue_entries q
      JOIN allowed ON q.event_id = allowed.event_id AND q.user_id = allowed.user_id
     WHERE q.status IN ('waiting', 'admitted')
       AND NOT EXISTS (SELECT 1 FROM retired WHERE retired.id = q.id)
       AND NOT EXISTS (SELECT 1 FROM joined WHERE joined.user_id = q.user_id)
), mine AS (
    SELECT joined.*, true AS created FROM joined
    UNION ALL
    SELECT existing.*, false FROM existing
), seen AS (
    SELECT mine.*,
           CASE WHEN mine.status = 'admitted' AND mine.pass_expires_at <= now() THEN 'expired'
                WHEN mine.status = 'waiting' AND event.remaining = 0 THEN 'sold_out'
                ELSE mine.status END AS shown,
           greatest(event.queue_opened_at, coalesce(event.sale_starts_at, '-infinity')) AS opens
      FROM mine, event
)
SELECT request.ord, caller.token_version,
       event.id IS NOT NULL AS event_found, event.queued, event.open,
       event.queue_admit_per_minute AS admit_per_minute,
       extract(epoch FROM event.sale_starts_at - now()) AS seconds_to_start,
       seen.id AS entry_id, seen.created,
       seen.event_id, seen.shown AS status, seen.joined_at, seen.admitted_at,
       CASE WHEN seen.shown = 'waiting' AND seen.opens <= now() THEN
           CASE WHEN seen.rank IS NOT NULL THEN seen.rank - counts.admitted
                ELSE counts.ranked - counts.admitted + 1
                     + (SELECT count(*) FROM queue_entries w  -- the few joined since the last sweep
                         WHERE w.event_id = seen.event_id AND w.status = 'waiting' AND w.rank IS NULL
                           AND w.place > counts.ranked_through AND w.place < seen.place)
                     + (SELECT count(*) FROM joined ahead WHERE ahead.place < seen.place)
           END
       END AS position,
       CASE WHEN seen.shown = 'admitted' THEN seen.pass END AS pass,
       seen.pass_expires_at
  FROM request
  LEFT JOIN caller ON caller.ord = request.ord
  LEFT JOIN event ON true
  LEFT JOIN seen ON seen.user_id = request.user_id
  LEFT JOIN counts ON true
 ORDER BY request.ord;
