-- migrate:up
-- The waiting room (docs/waiting-room.md). One row per place in an event's queue; joins
-- and polls only ever touch these rows and queue_admission, never the event's hot row.
-- Where an entry stands: `place`. Joined before the sale starts: a random number in
-- [0, 1), fixed at join but never shown before the start, so the early arrivals are in a
-- lottery and refreshing at the last second buys nothing. Joined after: the next value of
-- queue_places (>= 1), so later entries queue behind every early one, in join order.
CREATE SEQUENCE queue_places START 1;

-- event_id has no foreign key on purpose: the check of one locks the event's row (FOR KEY
-- SHARE) on every join, and would wait behind the purchase holding it in a rush. Events
-- are never deleted (a soft delete), and sql/queue/join.sql only inserts an entry for an
-- event the same statement found.
CREATE TABLE queue_entries (
    id uuid DEFAULT gen_random_uuid() PRIMARY KEY,
    event_id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id),
    place double precision NOT NULL,
    -- stored states; `expired` (admitted, pass_expires_at passed) and `sold_out` (waiting
    -- while the event has no tickets left) are also derived when read
    status text NOT NULL DEFAULT 'waiting'
        CHECK (status IN ('waiting', 'admitted', 'purchased', 'expired')),
    joined_at timestamptz NOT NULL DEFAULT now(),
    admitted_at timestamptz,
    pass text,
    pass_expires_at timestamptz,
    purchased_at timestamptz,
    CONSTRAINT queue_entries_admitted_has_pass CHECK (
        (status = 'waiting') = (admitted_at IS NULL)
        AND (admitted_at IS NULL) = (pass IS NULL)
        AND (pass IS NULL) = (pass_expires_at IS NULL)
        AND (status = 'purchased') = (purchased_at IS NOT NULL))
);
-- joining twice never gives two places: one live entry per user and event
CREATE UNIQUE INDEX queue_entries_live_key ON queue_entries (event_id, user_id)
    WHERE status IN ('waiting', 'admitted');
-- a pass names one entry (only admitted ones have one: waiting entries cost no entry here)
CREATE UNIQUE INDEX queue_entries_pass_key ON queue_entries (pass) WHERE pass IS NOT NULL;
-- the next to admit, and a waiting entry's position
CREATE INDEX queue_entries_waiting_idx ON queue_entries (event_id, place) WHERE status = 'waiting';
-- passes out (admitted, not used)
CREATE INDEX queue_entries_admitted_idx ON queue_entries (event_id, pass_expires_at) WHERE status = 'admitted';
-- the caller's newest entry
CREATE INDEX queue_entries_user_idx ON queue_entries (user_id, event_id, joined_at DESC);

-- Admission state per event: a token bucket refilled at admit_per_minute, holding at most
-- one second's worth (at least 1), spent one token per admitted entry.
CREATE TABLE queue_admission (
    event_id uuid PRIMARY KEY REFERENCES events (id),
    credit double precision NOT NULL DEFAULT 0 CHECK (credit >= 0),
    refilled_at timestamptz
);

-- migrate:down
DROP TABLE queue_admission;
DROP TABLE queue_entries;
DROP SEQUENCE queue_places;
