// A plain dump as pg_dump 15 writes it (trimmed), with what could fool a
// counter: COPY-like lines in a function body, a comment's string and a
// quoted name; a value that is exactly `\.`; rows loaded through a
// partition root; large objects; a table without columns.

export const SAMPLE_DUMP = String.raw`--
-- PostgreSQL database dump
--

\restrict FnukUIzyLLehv7ocj7XpOTPThNBJ7grrsrjokDK9uo5m3PDwADuDljS7Y8DvMoI

-- Dumped from database version 15.18
-- Dumped by pg_dump version 15.18

SET statement_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);

--
-- Name: My "Schema"; Type: SCHEMA; Schema: -; Owner: app
--

CREATE SCHEMA "My ""Schema""";

--
-- Name: f(); Type: FUNCTION; Schema: public; Owner: app
--

CREATE FUNCTION public.f() RETURNS integer
    LANGUAGE sql
    AS $_$
COPY public.bogus (a) FROM stdin;
SELECT $1;
$_$;

--
-- Name: Order Items; Type: TABLE; Schema: My "Schema"; Owner: app
--

CREATE TABLE "My ""Schema"""."Order Items" (
    id integer,
    "Note" text
);

--
-- Name: TABLE "Order Items"; Type: COMMENT; Schema: My "Schema"; Owner: app
--

COMMENT ON TABLE "My ""Schema"""."Order Items" IS 'it''s
COPY public.bogus2 (a) FROM stdin;
x';

--
-- Name: empty; Type: TABLE; Schema: public; Owner: app
--

CREATE UNLOGGED TABLE public.empty (
    a integer
);

--
-- Name: nocols; Type: TABLE; Schema: public; Owner: app
--

CREATE TABLE public.nocols (
);

--
-- Name: hp; Type: TABLE; Schema: public; Owner: app
--

CREATE TABLE public.hp (
    m public.mood
)
PARTITION BY HASH (m);

--
-- Name: hp0; Type: TABLE; Schema: public; Owner: app
--

CREATE TABLE public.hp0 (
    m public.mood
);

--
-- Name: hp1; Type: TABLE; Schema: public; Owner: app
--

CREATE TABLE public.hp1 (
    m public.mood
);

--
-- Name: weird COPY public.bogus3 (a) FROM stdin; ; Type: TABLE; Schema: public; Owner: app
--

CREATE TABLE public."weird
COPY public.bogus3 (a) FROM stdin;
" (
    a integer
);

--
-- Name: remote; Type: FOREIGN TABLE; Schema: public; Owner: app
--

CREATE FOREIGN TABLE public.remote (
    a integer
)
SERVER elsewhere;

--
-- Name: 16429; Type: BLOB; Schema: -; Owner: app
--

SELECT pg_catalog.lo_create('16429');

--
-- Data for Name: Order Items; Type: TABLE DATA; Schema: My "Schema"; Owner: app
--

COPY "My ""Schema"""."Order Items" (id, "Note") FROM stdin;
1	line1\nline2
2	back\\slash
3	\\.
4	tab\there
5	\N
\.


--
-- Data for Name: empty; Type: TABLE DATA; Schema: public; Owner: app
--

COPY public.empty (a) FROM stdin;
\.


--
-- Data for Name: hp0; Type: TABLE DATA; Schema: public; Owner: app
--

-- load via partition root public.hp

COPY public.hp (m) FROM stdin;
c
\.


--
-- Data for Name: hp1; Type: TABLE DATA; Schema: public; Owner: app
--

-- load via partition root public.hp

COPY public.hp (m) FROM stdin;
a
b
\.


--
-- Data for Name: nocols; Type: TABLE DATA; Schema: public; Owner: app
--

COPY public.nocols  FROM stdin;


\.


--
-- Data for Name: remote; Type: TABLE DATA; Schema: public; Owner: app
--

COPY public.remote (a) FROM stdin;
7
\.


--
-- Data for Name: weird COPY public.bogus3 (a) FROM stdin; ; Type: TABLE DATA; Schema: public; Owner: app
--

COPY public."weird
COPY public.bogus3 (a) FROM stdin;
" (a) FROM stdin;
1
\.


--
-- Data for Name: BLOBS; Type: BLOBS; Schema: -; Owner: -
--

BEGIN;

SELECT pg_catalog.lo_open('16429', 131072);
SELECT pg_catalog.lowrite(0, '\x0a5c2e0a434f5059');
SELECT pg_catalog.lo_close(0);

COMMIT;

--
-- PostgreSQL database dump complete
--

\unrestrict FnukUIzyLLehv7ocj7XpOTPThNBJ7grrsrjokDK9uo5m3PDwADuDljS7Y8DvMoI

`;

/** What SAMPLE_DUMP holds, as countRows would count it after a restore. */
export const SAMPLE_TABLES = {
  'My "Schema".Order Items': 5,
  'public.empty': 0,
  'public.nocols': 2,
  'public.hp0': 1,
  'public.hp1': 2,
  'public.weird\nCOPY public.bogus3 (a) FROM stdin;\n': 1,
};
