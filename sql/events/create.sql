-- Publish an event; all of its capacity is still for sale.
INSERT INTO events (name, location, organization, rating, date, capacity, remaining, price, currency,
                    image_url, description, max_per_order, created_by)
VALUES (:'name', :'location', :'organization', :'rating', :'date'::timestamptz,
        :'capacity'::int, :'capacity'::int, :'price'::numeric, :'currency', :'image_url', :'description',
        :'max_per_order'::int, :'created_by'::uuid)
RETURNING id, name, location, organization, rating, date, capacity, remaining, price, currency,
          image_url, description, max_per_order, created_by, created_at;
