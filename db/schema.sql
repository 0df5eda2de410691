SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: holdings_follow_order_status(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.holdings_follow_order_status() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.events (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    location text NOT NULL,
    organization text NOT NULL,
    rating text NOT NULL,
    date timestamp with time zone NOT NULL,
    capacity integer NOT NULL,
    remaining integer NOT NULL,
    price numeric(12,2) NOT NULL,
    image_url text,
    description text,
    max_per_order integer NOT NULL,
    created_by uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    image_key text,
    currency text DEFAULT 'BRL'::text NOT NULL,
    sale_starts_at timestamp with time zone,
    max_per_user integer,
    queue_admit_per_minute integer,
    queue_pass_seconds integer,
    queue_opened_at timestamp with time zone,
    CONSTRAINT events_capacity_check CHECK (((capacity >= 1) AND (capacity <= 1000000))),
    CONSTRAINT events_currency_check CHECK ((currency ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT events_description_check CHECK ((char_length(description) <= 5000)),
    CONSTRAINT events_image_key_check CHECK ((image_key ~ '^[0-9a-f]{32}\.(png|jpg|webp)$'::text)),
    CONSTRAINT events_image_url_check CHECK ((char_length(image_url) <= 2048)),
    CONSTRAINT events_location_check CHECK (((char_length(location) >= 1) AND (char_length(location) <= 200))),
    CONSTRAINT events_max_per_order_check CHECK (((max_per_order >= 1) AND (max_per_order <= 100))),
    CONSTRAINT events_max_per_user_check CHECK (((max_per_user >= 1) AND (max_per_user <= 1000000))),
    CONSTRAINT events_name_check CHECK (((char_length(name) >= 1) AND (char_length(name) <= 200))),
    CONSTRAINT events_organization_check CHECK (((char_length(organization) >= 1) AND (char_length(organization) <= 200))),
    CONSTRAINT events_price_check CHECK ((price >= (0)::numeric)),
    CONSTRAINT events_queue_admit_per_minute_check CHECK (((queue_admit_per_minute >= 1) AND (queue_admit_per_minute <= 100000))),
    CONSTRAINT events_queue_complete CHECK ((((queue_admit_per_minute IS NULL) = (queue_pass_seconds IS NULL)) AND ((queue_admit_per_minute IS NULL) = (queue_opened_at IS NULL)))),
    CONSTRAINT events_queue_pass_seconds_check CHECK (((queue_pass_seconds >= 30) AND (queue_pass_seconds <= 3600))),
    CONSTRAINT events_rating_check CHECK (((char_length(rating) >= 1) AND (char_length(rating) <= 10))),
    CONSTRAINT events_remaining_within_capacity CHECK (((remaining >= 0) AND (remaining <= capacity))),
    CONSTRAINT events_sale_starts_before_date CHECK ((sale_starts_at < date))
)
WITH (fillfactor='70');


--
-- Name: holdings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.holdings (
    event_id uuid NOT NULL,
    user_id uuid NOT NULL,
    tickets integer NOT NULL,
    CONSTRAINT holdings_tickets_check CHECK ((tickets >= 0))
);


--
-- Name: idempotency_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.idempotency_keys (
    user_id uuid NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    order_id uuid,
    response_status integer,
    response_body jsonb,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT idempotency_keys_has_outcome CHECK (((order_id IS NOT NULL) OR (response_body IS NOT NULL))),
    CONSTRAINT idempotency_keys_key_check CHECK ((key ~ '^[\x21-\x7e]{1,255}$'::text))
);


--
-- Name: login_failures; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.login_failures (
    email text NOT NULL,
    failures integer NOT NULL,
    last_failure_at timestamp with time zone NOT NULL,
    CONSTRAINT login_failures_email_check CHECK ((email = lower(email))),
    CONSTRAINT login_failures_failures_check CHECK ((failures > 0))
);


--
-- Name: orders; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.orders (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    event_id uuid NOT NULL,
    quantity integer NOT NULL,
    unit_price numeric(12,2) NOT NULL,
    total_amount numeric(14,2) NOT NULL,
    status text DEFAULT 'PENDING'::text NOT NULL,
    reason text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    late_payment_at timestamp with time zone,
    currency text NOT NULL,
    ticket_type_id uuid NOT NULL,
    CONSTRAINT orders_currency_check CHECK ((currency ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT orders_quantity_check CHECK ((quantity > 0)),
    CONSTRAINT orders_reason_check CHECK ((char_length(reason) <= 500)),
    CONSTRAINT orders_status_check CHECK ((status = ANY (ARRAY['PENDING'::text, 'PAID'::text, 'REJECTED'::text, 'EXPIRED'::text, 'CANCELLED'::text, 'REFUNDED'::text]))),
    CONSTRAINT orders_total_is_price_times_quantity CHECK ((total_amount = (unit_price * (quantity)::numeric))),
    CONSTRAINT orders_unit_price_check CHECK ((unit_price >= (0)::numeric))
);


--
-- Name: payment_deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payment_deliveries (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    order_id uuid NOT NULL,
    payment_id text,
    status text NOT NULL,
    amount numeric(14,2),
    currency text,
    reason text,
    response_status integer,
    response_body jsonb,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT payment_deliveries_payment_id_check CHECK (((char_length(payment_id) >= 1) AND (char_length(payment_id) <= 255))),
    CONSTRAINT payment_deliveries_status_check CHECK ((status = ANY (ARRAY['PAID'::text, 'REJECTED'::text])))
);


--
-- Name: payments; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payments (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    order_id uuid NOT NULL,
    payment_id text,
    amount numeric(14,2) NOT NULL,
    currency text NOT NULL,
    state text NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    refunded_at timestamp with time zone,
    CONSTRAINT payments_amount_check CHECK ((amount >= (0)::numeric)),
    CONSTRAINT payments_currency_check CHECK ((currency ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT payments_payment_id_check CHECK (((char_length(payment_id) >= 1) AND (char_length(payment_id) <= 255))),
    CONSTRAINT payments_refunded_at CHECK (((state = 'refunded'::text) = (refunded_at IS NOT NULL))),
    CONSTRAINT payments_state_check CHECK ((state = ANY (ARRAY['captured'::text, 'refund_due'::text, 'refunded'::text])))
);


--
-- Name: queue_admission; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.queue_admission (
    event_id uuid NOT NULL,
    credit double precision DEFAULT 0 NOT NULL,
    refilled_at timestamp with time zone,
    ranked bigint DEFAULT 0 NOT NULL,
    admitted bigint DEFAULT 0 NOT NULL,
    ranked_through double precision,
    CONSTRAINT queue_admission_credit_check CHECK ((credit >= (0)::double precision))
);


--
-- Name: queue_entries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.queue_entries (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    event_id uuid NOT NULL,
    user_id uuid NOT NULL,
    place double precision NOT NULL,
    status text DEFAULT 'waiting'::text NOT NULL,
    joined_at timestamp with time zone DEFAULT now() NOT NULL,
    admitted_at timestamp with time zone,
    pass text,
    pass_expires_at timestamp with time zone,
    purchased_at timestamp with time zone,
    rank bigint,
    CONSTRAINT queue_entries_admitted_has_pass CHECK ((((status = 'waiting'::text) = (admitted_at IS NULL)) AND ((admitted_at IS NULL) = (pass IS NULL)) AND ((pass IS NULL) = (pass_expires_at IS NULL)) AND ((status = 'purchased'::text) = (purchased_at IS NOT NULL)))),
    CONSTRAINT queue_entries_status_check CHECK ((status = ANY (ARRAY['waiting'::text, 'admitted'::text, 'purchased'::text, 'expired'::text])))
);


--
-- Name: queue_places; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.queue_places
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    version character varying NOT NULL
);


--
-- Name: ticket_types; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ticket_types (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    event_id uuid NOT NULL,
    name text NOT NULL,
    price numeric(12,2) NOT NULL,
    capacity integer NOT NULL,
    remaining integer NOT NULL,
    max_per_order integer NOT NULL,
    "position" integer NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT ticket_types_capacity_check CHECK (((capacity >= 0) AND (capacity <= 1000000))),
    CONSTRAINT ticket_types_max_per_order_check CHECK (((max_per_order >= 1) AND (max_per_order <= 100))),
    CONSTRAINT ticket_types_name_check CHECK (((char_length(name) >= 1) AND (char_length(name) <= 100))),
    CONSTRAINT ticket_types_price_check CHECK ((price >= (0)::numeric)),
    CONSTRAINT ticket_types_remaining_within_capacity CHECK (((remaining >= 0) AND (remaining <= capacity)))
);


--
-- Name: tickets; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tickets (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    order_id uuid NOT NULL,
    event_id uuid NOT NULL,
    price numeric(12,2) NOT NULL,
    status text DEFAULT 'VALID'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    checked_in_at timestamp with time zone,
    code_version integer DEFAULT 1 NOT NULL,
    holder_id uuid,
    ticket_type_id uuid NOT NULL,
    CONSTRAINT tickets_code_version_check CHECK (((code_version >= 1) AND (code_version <= 65535))),
    CONSTRAINT tickets_price_check CHECK ((price >= (0)::numeric)),
    CONSTRAINT tickets_status_check CHECK ((status = ANY (ARRAY['VALID'::text, 'USED'::text, 'CANCELLED'::text]))),
    CONSTRAINT tickets_used_iff_checked_in CHECK (((status = 'USED'::text) = (checked_in_at IS NOT NULL)))
);


--
-- Name: users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.users (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    email text NOT NULL,
    password_hash text NOT NULL,
    role text DEFAULT 'user'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    token_version integer DEFAULT 0 NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT users_email_check CHECK (((email = btrim(email)) AND ((char_length(email) >= 3) AND (char_length(email) <= 254)))),
    CONSTRAINT users_name_check CHECK (((char_length(name) >= 1) AND (char_length(name) <= 100))),
    CONSTRAINT users_role_check CHECK ((role = ANY (ARRAY['user'::text, 'staff'::text, 'admin'::text])))
);


--
-- Name: webhook_deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_deliveries (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    endpoint_id uuid NOT NULL,
    event_id uuid DEFAULT gen_random_uuid() NOT NULL,
    type text NOT NULL,
    subject_id uuid NOT NULL,
    data jsonb,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    last_status integer,
    last_error text,
    next_attempt_at timestamp with time zone DEFAULT now() NOT NULL,
    retry_from timestamp with time zone DEFAULT now() NOT NULL,
    delivered_at timestamp with time zone,
    failed_at timestamp with time zone
);


--
-- Name: webhook_endpoints; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_endpoints (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    url text NOT NULL,
    events text[] NOT NULL,
    secret text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    disabled_at timestamp with time zone,
    CONSTRAINT webhook_endpoints_events_check CHECK (((cardinality(events) >= 1) AND (cardinality(events) <= 20))),
    CONSTRAINT webhook_endpoints_url_check CHECK ((char_length(url) <= 2048))
);


--
-- Name: events events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_pkey PRIMARY KEY (id);


--
-- Name: holdings holdings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.holdings
    ADD CONSTRAINT holdings_pkey PRIMARY KEY (event_id, user_id);


--
-- Name: idempotency_keys idempotency_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, key);


--
-- Name: login_failures login_failures_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.login_failures
    ADD CONSTRAINT login_failures_pkey PRIMARY KEY (email);


--
-- Name: orders orders_id_event_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_id_event_key UNIQUE (id, event_id);


--
-- Name: orders orders_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_pkey PRIMARY KEY (id);


--
-- Name: payment_deliveries payment_deliveries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_deliveries
    ADD CONSTRAINT payment_deliveries_pkey PRIMARY KEY (id);


--
-- Name: payments payments_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payments
    ADD CONSTRAINT payments_pkey PRIMARY KEY (id);


--
-- Name: queue_admission queue_admission_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.queue_admission
    ADD CONSTRAINT queue_admission_pkey PRIMARY KEY (event_id);


--
-- Name: queue_entries queue_entries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.queue_entries
    ADD CONSTRAINT queue_entries_pkey PRIMARY KEY (id);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: ticket_types ticket_types_name_unique; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ticket_types
    ADD CONSTRAINT ticket_types_name_unique UNIQUE (event_id, name);


--
-- Name: ticket_types ticket_types_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ticket_types
    ADD CONSTRAINT ticket_types_pkey PRIMARY KEY (id);


--
-- Name: ticket_types ticket_types_position_unique; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ticket_types
    ADD CONSTRAINT ticket_types_position_unique UNIQUE (event_id, "position");


--
-- Name: tickets tickets_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tickets
    ADD CONSTRAINT tickets_pkey PRIMARY KEY (id);


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);


--
-- Name: webhook_deliveries webhook_deliveries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id);


--
-- Name: webhook_endpoints webhook_endpoints_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (id);


--
-- Name: events_created_by_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX events_created_by_idx ON public.events USING btree (created_by, created_at DESC, id);


--
-- Name: events_listing_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX events_listing_idx ON public.events USING btree (date, id) WHERE (deleted_at IS NULL);


--
-- Name: idempotency_keys_created_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idempotency_keys_created_idx ON public.idempotency_keys USING btree (created_at);


--
-- Name: orders_event_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX orders_event_idx ON public.orders USING btree (event_id, status);


--
-- Name: orders_pending_expiry_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX orders_pending_expiry_idx ON public.orders USING btree (expires_at) WHERE (status = 'PENDING'::text);


--
-- Name: orders_ticket_type_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX orders_ticket_type_idx ON public.orders USING btree (ticket_type_id, status);


--
-- Name: orders_user_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX orders_user_idx ON public.orders USING btree (user_id, created_at DESC, id);


--
-- Name: payment_deliveries_order_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payment_deliveries_order_idx ON public.payment_deliveries USING btree (order_id, received_at);


--
-- Name: payment_deliveries_payment_id_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX payment_deliveries_payment_id_key ON public.payment_deliveries USING btree (payment_id);


--
-- Name: payments_order_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payments_order_idx ON public.payments USING btree (order_id);


--
-- Name: payments_payment_id_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX payments_payment_id_key ON public.payments USING btree (payment_id);


--
-- Name: payments_state_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payments_state_idx ON public.payments USING btree (state, received_at, id);


--
-- Name: queue_entries_admitted_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX queue_entries_admitted_idx ON public.queue_entries USING btree (event_id, pass_expires_at) WHERE (status = 'admitted'::text);


--
-- Name: queue_entries_live_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX queue_entries_live_key ON public.queue_entries USING btree (event_id, user_id) WHERE (status = ANY (ARRAY['waiting'::text, 'admitted'::text]));


--
-- Name: queue_entries_pass_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX queue_entries_pass_key ON public.queue_entries USING btree (pass) WHERE (pass IS NOT NULL);


--
-- Name: queue_entries_ranked_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX queue_entries_ranked_idx ON public.queue_entries USING btree (event_id, rank) WHERE ((status = 'waiting'::text) AND (rank IS NOT NULL));


--
-- Name: queue_entries_unranked_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX queue_entries_unranked_idx ON public.queue_entries USING btree (event_id, place) WHERE ((status = 'waiting'::text) AND (rank IS NULL));


--
-- Name: queue_entries_user_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX queue_entries_user_idx ON public.queue_entries USING btree (user_id, event_id, joined_at DESC);


--
-- Name: tickets_event_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX tickets_event_idx ON public.tickets USING btree (event_id, status);


--
-- Name: tickets_holder_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX tickets_holder_idx ON public.tickets USING btree (holder_id) WHERE (holder_id IS NOT NULL);


--
-- Name: tickets_order_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX tickets_order_idx ON public.tickets USING btree (order_id);


--
-- Name: tickets_revoked_codes_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX tickets_revoked_codes_idx ON public.tickets USING btree (event_id, id) WHERE (code_version > 1);


--
-- Name: tickets_ticket_type_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX tickets_ticket_type_idx ON public.tickets USING btree (ticket_type_id, status);


--
-- Name: users_created_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX users_created_idx ON public.users USING btree (created_at, id);


--
-- Name: users_email_lower_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX users_email_lower_key ON public.users USING btree (lower(email));


--
-- Name: webhook_deliveries_due_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_deliveries_due_idx ON public.webhook_deliveries USING btree (next_attempt_at) WHERE ((delivered_at IS NULL) AND (failed_at IS NULL));


--
-- Name: webhook_deliveries_endpoint_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_deliveries_endpoint_idx ON public.webhook_deliveries USING btree (endpoint_id, created_at DESC, id);


--
-- Name: orders orders_move_holdings; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER orders_move_holdings AFTER UPDATE OF status ON public.orders FOR EACH ROW WHEN ((old.status IS DISTINCT FROM new.status)) EXECUTE FUNCTION public.holdings_follow_order_status();


--
-- Name: events events_created_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_created_by_fkey FOREIGN KEY (created_by) REFERENCES public.users(id);


--
-- Name: holdings holdings_event_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.holdings
    ADD CONSTRAINT holdings_event_id_fkey FOREIGN KEY (event_id) REFERENCES public.events(id);


--
-- Name: holdings holdings_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.holdings
    ADD CONSTRAINT holdings_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);


--
-- Name: idempotency_keys idempotency_keys_order_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_order_id_fkey FOREIGN KEY (order_id) REFERENCES public.orders(id);


--
-- Name: idempotency_keys idempotency_keys_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);


--
-- Name: orders orders_event_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_event_id_fkey FOREIGN KEY (event_id) REFERENCES public.events(id);


--
-- Name: orders orders_ticket_type_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_ticket_type_id_fkey FOREIGN KEY (ticket_type_id) REFERENCES public.ticket_types(id);


--
-- Name: orders orders_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);


--
-- Name: payment_deliveries payment_deliveries_order_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_deliveries
    ADD CONSTRAINT payment_deliveries_order_id_fkey FOREIGN KEY (order_id) REFERENCES public.orders(id);


--
-- Name: payments payments_order_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payments
    ADD CONSTRAINT payments_order_id_fkey FOREIGN KEY (order_id) REFERENCES public.orders(id);


--
-- Name: queue_admission queue_admission_event_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.queue_admission
    ADD CONSTRAINT queue_admission_event_id_fkey FOREIGN KEY (event_id) REFERENCES public.events(id);


--
-- Name: queue_entries queue_entries_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.queue_entries
    ADD CONSTRAINT queue_entries_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);


--
-- Name: ticket_types ticket_types_event_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ticket_types
    ADD CONSTRAINT ticket_types_event_id_fkey FOREIGN KEY (event_id) REFERENCES public.events(id);


--
-- Name: tickets tickets_holder_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tickets
    ADD CONSTRAINT tickets_holder_id_fkey FOREIGN KEY (holder_id) REFERENCES public.users(id);


--
-- Name: tickets tickets_order_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tickets
    ADD CONSTRAINT tickets_order_fkey FOREIGN KEY (order_id, event_id) REFERENCES public.orders(id, event_id);


--
-- Name: tickets tickets_ticket_type_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tickets
    ADD CONSTRAINT tickets_ticket_type_id_fkey FOREIGN KEY (ticket_type_id) REFERENCES public.ticket_types(id);


--
-- Name: webhook_deliveries webhook_deliveries_endpoint_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_endpoint_id_fkey FOREIGN KEY (endpoint_id) REFERENCES public.webhook_endpoints(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--


--
-- Dbmate schema migrations
--

INSERT INTO public.schema_migrations (version) VALUES
    ('20261125000001'),
    ('20261125000002'),
    ('20261125000003'),
    ('20261125000004'),
    ('20261125000006'),
    ('20261207000101'),
    ('20261207000102'),
    ('20261207000201'),
    ('20261207000202'),
    ('20261207000301'),
    ('20261207000302'),
    ('20261207000501'),
    ('20261207000502'),
    ('20261207000701'),
    ('20261207000801');
