-- migrate:up
-- When an event goes on sale (null: on sale now) and how many tickets one user may hold
-- for it across all their orders (null: no limit).
ALTER TABLE events
    ADD COLUMN sale_starts_at timestamptz,
    ADD COLUMN max_per_user integer CHECK (max_per_user BETWEEN 1 AND 1000000),
    ADD CONSTRAINT events_sale_starts_before_date CHECK (sale_starts_at < date),
    -- The waiting room (docs/waiting-room.md): none while queue_admit_per_minute is null.
    -- queue_opened_at: when it was switched on; admission starts at the later of that
    -- and sale_starts_at.
    ADD COLUMN queue_admit_per_minute integer CHECK (queue_admit_per_minute BETWEEN 1 AND 100000),
    ADD COLUMN queue_pass_seconds integer CHECK (queue_pass_seconds BETWEEN 30 AND 3600),
    ADD COLUMN queue_opened_at timestamptz,
    ADD CONSTRAINT events_queue_complete CHECK (
        (queue_admit_per_minute IS NULL) = (queue_pass_seconds IS NULL)
        AND (queue_admit_per_minute IS NULL) = (queue_opened_at IS NULL));

-- The tickets each user holds for each event in PENDING and PAID orders: the per-user
-- limit's counter. A count of orders inside the purchase statement would read the
-- statement's snapshot, blind to the same user's purchase that committed while this one
-- waited for the event's row lock; this row is read and changed by INSERT ... ON CONFLICT
-- DO UPDATE, which always sees (and locks) its newest version. The purchase statement
-- adds to it; the trigger below keeps it right whenever an order's status changes.
CREATE TABLE holdings (
    event_id uuid NOT NULL REFERENCES events (id),
    user_id uuid NOT NULL REFERENCES users (id),
    tickets integer NOT NULL CHECK (tickets >= 0),
    PRIMARY KEY (event_id, user_id)
);

INSERT INTO holdings (event_id, user_id, tickets)
SELECT event_id, user_id, sum(quantity)
  FROM orders
 WHERE status IN ('PENDING', 'PAID')
 GROUP BY event_id, user_id;

-- An order entering or leaving PENDING/PAID moves its tickets in or out of the holding
-- (cancel, expiry, rejection, a late payment re-reserving an expired order, refunds...).
CREATE FUNCTION holdings_follow_order_status() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    held_before boolean := OLD.status IN ('PENDING', 'PAID');
    held_after boolean := NEW.status IN ('PENDING', 'PAID');
BEGIN
    IF held_before <> held_after THEN
        INSERT INTO holdings AS h (event_id, user_id, tickets)
        VALUES (NEW.event_id, NEW.user_id, CASE WHEN held_after THEN NEW.quantity ELSE 0 END)
        ON CONFLICT (event_id, user_id) DO UPDATE
           SET tickets = greatest(0, h.tickets + CASE WHEN held_after THEN NEW.quantity ELSE -NEW.quantity END);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER orders_move_holdings
    AFTER UPDATE OF status ON orders
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION holdings_follow_order_status();

-- migrate:down
DROP TRIGGER orders_move_holdings ON orders;
DROP FUNCTION holdings_follow_order_status();
DROP TABLE holdings;
ALTER TABLE events
    DROP CONSTRAINT events_queue_complete,
    DROP COLUMN queue_opened_at,
    DROP COLUMN queue_pass_seconds,
    DROP COLUMN queue_admit_per_minute,
    DROP CONSTRAINT events_sale_starts_before_date,
    DROP COLUMN max_per_user,
    DROP COLUMN sale_starts_at;
