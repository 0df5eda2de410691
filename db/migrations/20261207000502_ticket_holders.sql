-- migrate:up
-- Transfers: a ticket's holder is `holder_id`, or its order's buyer while that is NULL.
-- NULL (not a copy of the buyer) keeps the purchase statement as it is: it inserts
-- tickets without a holder, and only a transfer ever sets one. Every read takes
-- coalesce(tickets.holder_id, orders.user_id) as the holder.
ALTER TABLE tickets ADD COLUMN holder_id uuid REFERENCES users (id);
-- GET /me/tickets: the tickets transferred to someone (the buyer's own come through
-- orders_user_idx and tickets_order_idx).
CREATE INDEX tickets_holder_idx ON tickets (holder_id) WHERE holder_id IS NOT NULL;

-- migrate:down
DROP INDEX tickets_holder_idx;
ALTER TABLE tickets DROP COLUMN holder_id;
