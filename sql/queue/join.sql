-- The caller joins an event's waiting room, in ONE statement that never locks or changes
-- the event's row: a new entry (created = true), or the caller's live one (waiting or
-- admitted with a valid pass) again (created = false), never two places. An admitted
-- entry whose pass has expired is marked `expired` first, so the caller joins again, at
-- the back. Where the new entry stands (`place`): before the sale start a random number in
-- [0, 1) (the lottery among early arrivals), after it the next of queue_places (>= 1).
-- The buyer's token must still be valid (:token_version; the route skipped that lookup).
-- Returns the entry as the caller sees it, like sql/queue/entry.sql (status, position in
-- constant time from the ranks the admission sweep keeps, pass), plus the queue's
-- admit_per_minute and seconds_to_start for Retry-After.
-- Always one row: event_found / queued / open say why nobody joined; entry columns are
-- NULL when there is no entry to show (a concurrent join by the same caller that has not
-- committed yet: try again).
WITH event AS (
    SELECT id, remaining, sale_starts_at, queue_admit_per_minute, queue_opened_at,
           queue_admit_per_minute IS NOT NULL AS queued, date > now() AS open
      FROM events
     WHERE id = :'event_id'::uuid AND deleted_at IS NULL
), caller AS (
    SELECT token_version FROM users WHERE id = :'user_id'::uuid
), counts AS (  -- entries ranked and admitted so far (none before the first join's row exists)
    SELECT coalesce(max(a.ranked), 0) AS ranked, coalesce(max(a.admitted), 0) AS admitted,
           coalesce(max(a.ranked_through), '-infinity') AS ranked_through
      FROM queue_admission a
     WHERE a.event_id = :'event_id'::uuid
), allowed AS (
    SELECT event.*
      FROM event, caller
     WHERE event.queued AND event.open AND caller.token_version = :'token_version'::int
), retired AS (
    UPDATE queue_entries q
       SET status = 'expired'
      FROM allowed
     WHERE q.event_id = allowed.id AND q.user_id = :'user_id'::uuid
       AND q.status = 'admitted' AND q.pass_expires_at <= now()
    RETURNING q.id
), bucket AS (
    INSERT INTO queue_admission (event_id)
    SELECT id FROM allowed
        ON CONFLICT (event_id) DO NOTHING
), joined AS (
    INSERT INTO queue_entries (event_id, user_id, place)
    SELECT allowed.id, :'user_id'::uuid,
           CASE WHEN allowed.sale_starts_at > now() THEN random() ELSE nextval('queue_places') END
      FROM allowed
     WHERE (SELECT count(*) FROM retired) >= 0  -- after `retired`
        ON CONFLICT (event_id, user_id) WHERE status IN ('waiting', 'admitted') DO NOTHING
    RETURNING *
), existing AS (
    SELECT q.*
      FROM queue_entries q, allowed
     WHERE q.event_id = allowed.id AND q.user_id = :'user_id'::uuid
       AND q.status IN ('waiting', 'admitted')
       AND NOT EXISTS (SELECT 1 FROM retired WHERE retired.id = q.id)
       AND NOT EXISTS (SELECT 1 FROM joined)
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
SELECT (SELECT token_version FROM caller) AS token_version,
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
           END
       END AS position,
       CASE WHEN seen.shown = 'admitted' THEN seen.pass END AS pass,
       seen.pass_expires_at
  FROM (SELECT) AS always_one_row
  LEFT JOIN event ON true
  LEFT JOIN seen ON true
  LEFT JOIN counts ON true;
