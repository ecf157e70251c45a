/*
 * wachat_tui.core.parse._hotloop — the WhatsApp parser's hot loop in C.
 *
 * core/parse/ decides everything about a file in Python (its header style, the day/month
 * order, the first records) and then hands the rest of the file to a Scanner: an iterator of
 * Messages over blocks of complete lines. The Scanner does what the Python hot loop
 * (HotLoop.run_python in hotloop.py) does, and calls back into Python for everything else:
 *
 *   Is a line a header?
 *     1. Header templates: a date prefix and a time suffix the Python side has already read
 *        with its regex, with the digits as fields ("DD/DD/DDDD, " + "DD:DD - "). A line that
 *        matches both, and whose fields make a valid date and time in the decided order, is a
 *        header; a literal difference, an odd digit count or an impossible date goes on to 2.
 *     2. The Python loop's caches: the exact prefix and suffix strings already seen, at the
 *        lengths in `lens` (dicts filled by the Python side).
 *     3. Else the callback header(line, line_no) -> None (a continuation line) or
 *        (datetime, end of the header, dl0, tl0); it runs the regexes, records unparsed lines,
 *        and teaches the Scanner new templates.
 *
 *   A record whose author is a known plain author and whose text needs no cleaning is built
 *   here (a text, or what the placeholder table or classify_text(text) says it is): the C copy
 *   of RecordBuilder.quick (build.py), extended to texts classify() must look at. Every other
 *   record goes to the callback build(datetime, rest) — the careful path. Every shortcut is
 *   taken only where the careful path would give the very same record; the tests compare the
 *   two on every fixture, the corpus and hypothesis-made exports.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <structmember.h>

#define MAX_TOKENS 16
#define MAX_TEMPLATES 16
#define F_D1 0
#define F_D2 1
#define F_D3 2
#define F_H 3
#define F_M 4
#define F_S 5

typedef struct {
    int field;          /* -1: literal, else F_* */
    Py_ssize_t len;     /* literal length */
    Py_UCS4 *chars;     /* literal characters (owned) */
} Token;

typedef struct {
    int n;
    int ampm;           /* suffixes: 0 none, 1 am, 2 pm */
    Token tok[MAX_TOKENS];
} Template;

static const char *FIELD_NAMES[7] = {
    "time", "author", "text", "kind", "edited", "attachment", "media_type"};

typedef struct {
    PyObject_HEAD
    /* configuration */
    PyTypeObject *msg_type;
    PyObject *descr[7];
    Py_ssize_t offset[7];    /* slot offsets of the fields, or -1: use the descriptor */
    PyObject *prefixes, *suffixes, *lens, *plain_authors, *placeholders;
    PyObject *invisible, *junk, *e2e_heads;
    Py_ssize_t e2e_len;
    PyObject *header, *build, *check_size, *classify_text;
    PyObject *doc_suffixes, *call_prefixes;   /* tuples of norm keys (formats.py) */
    Py_ssize_t max_line;     /* a longer line (no line end in sight) is refused */
    PyObject *long_line;     /* callable(line_no): raises the parser's error */
    PyObject *tail;          /* the part line after the last line end read so far */
    PyObject *pending;       /* a chunk whose lines from pending_pos on are still to read */
    Py_ssize_t pending_pos;
    PyObject *acache_raw[8], *acache_author[8];   /* recent plain authors (raw name, name) */
    int acache_next;
    unsigned char ph_map[128][32];   /* placeholder keys by (length, first char & 255) */
    unsigned char suffix_last[32], prefix_first[32];   /* doc suffixes' last, call prefixes'
                                                          first characters (& 255) */
    PyObject *texts;         /* iterator of (line_no, text) blocks */
    PyObject *text_kind, *colon_space, *newline, *empty;
    PyObject *maps_host, *foursquare_host;   /* what MAPS_ONLY_RE and FOURSQUARE_RE need */
    int yi, mi, di;          /* date field index of year, month, day (decided order) */
    Template pre[MAX_TEMPLATES], suf[MAX_TEMPLATES];
    int n_pre, n_suf;
    /* the current block */
    PyObject *cur;
    Py_ssize_t cur_n, pos, line_no;
    int texts_done;
    /* caches */
    Py_ssize_t dl0, tl0;
    PyObject *last_day, *last_tod, *last_dt;
    int last_f[6];
    PyObject *last_fdt;
    /* the open record: rest = carry [+ "\n" + cur[c_start:c_stop]]  or  cur[p_start:p_stop] */
    PyObject *p_dt, *p_carry;
    Py_ssize_t p_start, p_stop, c_start, c_stop;
    Py_ssize_t p_more_lines, p_more_chars, p_line_no;
} Scanner;

/* ---- object lifecycle ------------------------------------------------------------------- */

static void
free_templates(Scanner *s)
{
    for (int t = 0; t < s->n_pre; t++)
        for (int k = 0; k < s->pre[t].n; k++)
            PyMem_Free(s->pre[t].tok[k].chars);
    for (int t = 0; t < s->n_suf; t++)
        for (int k = 0; k < s->suf[t].n; k++)
            PyMem_Free(s->suf[t].tok[k].chars);
    s->n_pre = s->n_suf = 0;
}

#define SCANNER_OBJECTS(X) \
    X(msg_type) X(prefixes) X(suffixes) X(lens) X(plain_authors) X(placeholders) \
    X(invisible) X(junk) X(e2e_heads) X(header) X(build) X(check_size) X(classify_text) \
    X(texts) X(doc_suffixes) X(call_prefixes) X(long_line) X(tail) X(pending) X(text_kind) X(colon_space) X(newline) X(empty) X(maps_host) X(foursquare_host) X(cur) X(last_day) X(last_tod) \
    X(last_dt) X(last_fdt) X(p_dt) X(p_carry)

static int
Scanner_traverse(Scanner *s, visitproc visit, void *arg)
{
#define VISIT(name) Py_VISIT(s->name);
    SCANNER_OBJECTS(VISIT)
#undef VISIT
    for (int i = 0; i < 7; i++)
        Py_VISIT(s->descr[i]);
    for (int i = 0; i < 8; i++) {
        Py_VISIT(s->acache_raw[i]);
        Py_VISIT(s->acache_author[i]);
    }
    return 0;
}

static int
Scanner_clear(Scanner *s)
{
#define CLEAR(name) Py_CLEAR(s->name);
    SCANNER_OBJECTS(CLEAR)
#undef CLEAR
    for (int i = 0; i < 7; i++)
        Py_CLEAR(s->descr[i]);
    for (int i = 0; i < 8; i++) {
        Py_CLEAR(s->acache_raw[i]);
        Py_CLEAR(s->acache_author[i]);
    }
    return 0;
}

static void
Scanner_dealloc(Scanner *s)
{
    PyObject_GC_UnTrack(s);
    Scanner_clear(s);
    free_templates(s);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

static int
Scanner_init(Scanner *s, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"message_type", "prefixes", "suffixes", "lens", "plain_authors",
                             "placeholders", "invisible", "junk", "e2e_heads", "e2e_len",
                             "header", "build", "check_size", "classify_text", "order",
                             "doc_suffixes", "call_prefixes", "max_line", "long_line", NULL};
    PyObject *msg_type, *prefixes, *suffixes, *lens, *plain, *ph, *inv, *junk, *heads;
    PyObject *header, *build, *check_size, *classify_text, *order, *doc_suffixes, *call_prefixes;
    PyObject *long_line;
    Py_ssize_t e2e_len, max_line;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!O!O!O!O!UUOnOOOOUO!O!nO", kwlist,
                                     &PyType_Type, &msg_type, &PyDict_Type, &prefixes,
                                     &PyDict_Type, &suffixes, &PyList_Type, &lens,
                                     &PyDict_Type, &plain, &PyDict_Type, &ph, &inv, &junk,
                                     &heads, &e2e_len, &header, &build, &check_size,
                                     &classify_text, &order, &PyTuple_Type, &doc_suffixes,
                                     &PyTuple_Type, &call_prefixes, &max_line, &long_line))
        return -1;
    if (!PyAnySet_Check(heads)) {
        PyErr_SetString(PyExc_TypeError, "e2e_heads must be a set");
        return -1;
    }
    if (PyUnicode_GET_LENGTH(order) != 3) {
        PyErr_SetString(PyExc_ValueError, "order must be like 'DMY'");
        return -1;
    }
    s->yi = s->mi = s->di = -1;
    for (int k = 0; k < 3; k++) {
        Py_UCS4 c = PyUnicode_READ_CHAR(order, k);
        if (c == 'Y')
            s->yi = k;
        else if (c == 'M')
            s->mi = k;
        else if (c == 'D')
            s->di = k;
    }
    if (s->yi < 0 || s->mi < 0 || s->di < 0) {
        PyErr_SetString(PyExc_ValueError, "order must be a permutation of 'DMY'");
        return -1;
    }
    Scanner_clear(s);
    free_templates(s);
    for (int i = 0; i < 7; i++) {
        PyObject *d = PyObject_GetAttrString(msg_type, FIELD_NAMES[i]);
        if (d == NULL)
            return -1;
        if (Py_TYPE(d)->tp_descr_set == NULL) {
            Py_DECREF(d);
            PyErr_Format(PyExc_TypeError, "message_type.%s is not a slot", FIELD_NAMES[i]);
            return -1;
        }
        s->descr[i] = d;
        s->offset[i] = -1;
        if (Py_IS_TYPE(d, &PyMemberDescr_Type)) {
            PyMemberDef *md = ((PyMemberDescrObject *)d)->d_member;
            if (md->type == T_OBJECT_EX && !(md->flags & READONLY))
                s->offset[i] = md->offset;
        }
    }
    s->msg_type = (PyTypeObject *)Py_NewRef(msg_type);
    s->prefixes = Py_NewRef(prefixes);
    s->suffixes = Py_NewRef(suffixes);
    s->lens = Py_NewRef(lens);
    s->plain_authors = Py_NewRef(plain);
    s->placeholders = Py_NewRef(ph);
    s->invisible = Py_NewRef(inv);
    s->junk = Py_NewRef(junk);
    s->e2e_heads = Py_NewRef(heads);
    s->e2e_len = e2e_len;
    s->header = Py_NewRef(header);
    s->build = Py_NewRef(build);
    s->check_size = Py_NewRef(check_size);
    s->classify_text = Py_NewRef(classify_text);
    s->doc_suffixes = Py_NewRef(doc_suffixes);
    s->call_prefixes = Py_NewRef(call_prefixes);
    s->max_line = max_line;
    s->long_line = Py_NewRef(long_line);
    s->text_kind = PyUnicode_InternFromString("text");
    s->colon_space = PyUnicode_FromString(": ");
    s->newline = PyUnicode_FromString("\n");
    s->empty = PyUnicode_New(0, 0);
    s->maps_host = PyUnicode_FromString("maps.google.com");
    s->foursquare_host = PyUnicode_FromString("foursquare.com");
    if (!s->text_kind || !s->colon_space || !s->newline || !s->empty || !s->maps_host
        || !s->foursquare_host)
        return -1;
    s->dl0 = s->tl0 = -1;
    s->texts_done = 1;       /* until start() */
    /* which (length, first character) pairs a placeholder key has: most texts need no
       dict lookup (and no hash) to know they are no placeholder */
    memset(s->ph_map, 0, sizeof(s->ph_map));
    memset(s->suffix_last, 0, sizeof(s->suffix_last));
    memset(s->prefix_first, 0, sizeof(s->prefix_first));
    for (int pass = 0; pass < 2; pass++) {
        PyObject *tuple = pass ? call_prefixes : doc_suffixes;
        unsigned char *map = pass ? s->prefix_first : s->suffix_last;
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(tuple); j++) {
            PyObject *w = PyTuple_GET_ITEM(tuple, j);
            if (!PyUnicode_Check(w)) {
                PyErr_SetString(PyExc_TypeError, "doc_suffixes and call_prefixes hold str");
                return -1;
            }
            Py_ssize_t wn = PyUnicode_GET_LENGTH(w);
            if (wn == 0) {            /* an empty one matches every key: never skip */
                memset(map, 0xff, 32);
                continue;
            }
            unsigned c = PyUnicode_READ_CHAR(w, pass ? 0 : wn - 1) & 255;
            map[c >> 3] |= (unsigned char)(1u << (c & 7));
        }
    }
    PyObject *key, *value;
    Py_ssize_t it = 0;
    while (PyDict_Next(ph, &it, &key, &value)) {
        if (!PyUnicode_Check(key))
            continue;
        Py_ssize_t n = PyUnicode_GET_LENGTH(key);
        if (n == 0 || n >= 128)
            continue;
        unsigned c = PyUnicode_READ_CHAR(key, 0) & 255;
        s->ph_map[n][c >> 3] |= (unsigned char)(1u << (c & 7));
    }
    return 0;
}

/* ---- templates ---------------------------------------------------------------------------- */

static int
tokens_equal(const Template *a, const Template *b)
{
    if (a->n != b->n || a->ampm != b->ampm)
        return 0;
    for (int k = 0; k < a->n; k++) {
        const Token *x = &a->tok[k], *y = &b->tok[k];
        if (x->field != y->field || x->len != y->len)
            return 0;
        if (x->field < 0 && memcmp(x->chars, y->chars, x->len * sizeof(Py_UCS4)) != 0)
            return 0;
    }
    return 1;
}

/* add_template(is_suffix, tokens, ampm): tokens is a tuple of str (literal) and int (field) */
static PyObject *
Scanner_add_template(Scanner *s, PyObject *args)
{
    int is_suffix, ampm;
    PyObject *tokens;
    if (!PyArg_ParseTuple(args, "pO!i", &is_suffix, &PyTuple_Type, &tokens, &ampm))
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(tokens);
    Template *list = is_suffix ? s->suf : s->pre;
    int *count = is_suffix ? &s->n_suf : &s->n_pre;
    if (n == 0 || n > MAX_TOKENS || *count >= MAX_TEMPLATES || ampm < 0 || ampm > 2)
        Py_RETURN_FALSE;
    Template t;
    memset(&t, 0, sizeof(t));
    t.ampm = ampm;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *item = PyTuple_GET_ITEM(tokens, k);
        Token *tok = &t.tok[t.n];
        if (PyLong_Check(item)) {
            long f = PyLong_AsLong(item);
            if (f < F_D1 || f > F_S || (is_suffix ? f < F_H : f > F_D3)) {
                PyErr_SetString(PyExc_ValueError, "bad template field");
                goto fail;
            }
            tok->field = (int)f;
        }
        else if (PyUnicode_Check(item) && PyUnicode_GET_LENGTH(item) > 0) {
            tok->field = -1;
            tok->chars = PyUnicode_AsUCS4Copy(item);
            if (tok->chars == NULL)
                goto fail;
            tok->len = PyUnicode_GET_LENGTH(item);
        }
        else {
            PyErr_SetString(PyExc_TypeError, "template tokens are non-empty str or int");
            goto fail;
        }
        t.n++;
    }
    for (int k = 0; k < *count; k++) {
        if (tokens_equal(&list[k], &t)) {
            for (int j = 0; j < t.n; j++)
                PyMem_Free(t.tok[j].chars);
            Py_RETURN_FALSE;
        }
    }
    list[(*count)++] = t;
    Py_RETURN_TRUE;
fail:
    for (int j = 0; j < t.n; j++)
        PyMem_Free(t.tok[j].chars);
    return NULL;
}

/* Match template t at text[pos:le]; fills f[] (fields) and returns the end, or -1. */
static Py_ssize_t
match_template(const Template *t, int kind, const void *data, Py_ssize_t pos, Py_ssize_t le,
               int *f, int *flen)
{
    for (int k = 0; k < t->n; k++) {
        const Token *tok = &t->tok[k];
        if (tok->field < 0) {
            if (le - pos < tok->len)
                return -1;
            for (Py_ssize_t j = 0; j < tok->len; j++)
                if (PyUnicode_READ(kind, data, pos + j) != tok->chars[j])
                    return -1;
            pos += tok->len;
        }
        else {
            /* \d{1,4} for date fields, \d{1,2} for hours, \d{2} for minutes and seconds */
            int lo = tok->field <= F_D3 ? 1 : (tok->field == F_H ? 1 : 2);
            int hi = tok->field <= F_D3 ? 4 : 2;
            int v = 0, n = 0;
            while (pos < le && n < hi) {
                Py_UCS4 c = PyUnicode_READ(kind, data, pos);
                if (c < '0' || c > '9')
                    break;
                v = v * 10 + (int)(c - '0');
                n++;
                pos++;
            }
            if (n < lo)
                return -1;      /* (a digit after the last one read fails the next literal) */
            f[tok->field] = v;
            flen[tok->field] = n;
        }
    }
    return pos;
}

static int
days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

/*
 * A header by the templates: 1 with *dt (new ref) and *end set, 0 if no template gives a
 * valid header (the slower tiers decide), -1 on error. Dates follow parse._ymd and times
 * parse._hms; anything those would treat specially (Buddhist years, odd widths) is a 0.
 */
static int
try_templates(Scanner *s, int kind, const void *data, Py_ssize_t ls, Py_ssize_t le,
              PyObject **dt, Py_ssize_t *end)
{
    int f[6] = {0, 0, 0, 0, 0, 0}, flen[6] = {0, 0, 0, 0, 0, 0};
    for (int a = 0; a < s->n_pre; a++) {
        Py_ssize_t p = match_template(&s->pre[a], kind, data, ls, le, f, flen);
        if (p < 0)
            continue;
        for (int b = 0; b < s->n_suf; b++) {
            f[F_S] = 0;
            flen[F_S] = 0;
            Py_ssize_t e = match_template(&s->suf[b], kind, data, p, le, f, flen);
            if (e < 0)
                continue;
            /* the date, as _ymd reads it */
            int y = f[s->yi], mo = f[s->mi], d = f[s->di];
            int ylen = flen[s->yi];
            if (flen[s->mi] > 2 || flen[s->di] > 2)
                return 0;
            if (ylen == 2)
                y += 2000;
            else if (ylen != 4 || y > 2400)
                return 0;
            if (y < 1900 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
                return 0;
            /* the time, as _hms reads it */
            int h = f[F_H];
            int ampm = s->suf[b].ampm;
            if (ampm && h >= 1 && h <= 12) {
                if (ampm == 2 && h != 12)
                    h += 12;
                else if (ampm == 1 && h == 12)
                    h = 0;
            }
            if (h > 23 || f[F_M] > 59 || f[F_S] > 59)
                return 0;
            int key[6] = {y, mo, d, h, f[F_M], f[F_S]};
            if (s->last_fdt != NULL && memcmp(key, s->last_f, sizeof(key)) == 0) {
                *dt = Py_NewRef(s->last_fdt);
            }
            else {
                *dt = PyDateTime_FromDateAndTime(y, mo, d, h, f[F_M], f[F_S], 0);
                if (*dt == NULL)
                    return -1;
                memcpy(s->last_f, key, sizeof(key));
                Py_XSETREF(s->last_fdt, Py_NewRef(*dt));
            }
            *end = e - ls;
            return 1;
        }
    }
    return 0;
}

/* ---- the cache tier --------------------------------------------------------------------- */

/* dict lookup of src[a:b] (clamped like a Python slice); borrowed reference or NULL */
static PyObject *
lookup_slice(PyObject *dict, PyObject *src, Py_ssize_t a, Py_ssize_t b, Py_ssize_t limit)
{
    if (b > limit)
        b = limit;
    if (a > b)
        a = b;
    PyObject *key = PyUnicode_Substring(src, a, b);
    if (key == NULL)
        return NULL;
    PyObject *v = PyDict_GetItemWithError(dict, key);
    Py_DECREF(key);
    return v;
}

/* day + tod, reusing the last datetime when both are the very same objects */
static PyObject *
combine(Scanner *s, PyObject *day, PyObject *tod)
{
    if (day == s->last_day && tod == s->last_tod && s->last_dt != NULL)
        return Py_NewRef(s->last_dt);
    PyObject *dt = PyNumber_Add(day, tod);
    if (dt == NULL)
        return NULL;
    Py_XSETREF(s->last_day, Py_NewRef(day));
    Py_XSETREF(s->last_tod, Py_NewRef(tod));
    Py_XSETREF(s->last_dt, Py_NewRef(dt));
    return dt;
}

/* A header at cached lengths? 1 (and *dt set, new ref), 0, or -1 on error. */
static int
try_cached(Scanner *s, Py_ssize_t ls, Py_ssize_t le, Py_ssize_t dl, Py_ssize_t tl, PyObject **dt)
{
    PyObject *day = lookup_slice(s->prefixes, s->cur, ls, ls + dl, le);
    if (day == NULL)
        return PyErr_Occurred() ? -1 : 0;
    Py_INCREF(day);
    PyObject *tod = lookup_slice(s->suffixes, s->cur, ls + dl, ls + dl + tl, le);
    if (tod == NULL) {
        Py_DECREF(day);
        return PyErr_Occurred() ? -1 : 0;
    }
    Py_INCREF(tod);
    *dt = combine(s, day, tod);
    Py_DECREF(day);
    Py_DECREF(tod);
    return *dt == NULL ? -1 : 1;
}

/* ---- records ----------------------------------------------------------------------------- */

static inline int
in_str(PyObject *set, Py_UCS4 c)
{
    return PyUnicode_FindChar(set, c, 0, PyUnicode_GET_LENGTH(set), 1) >= 0;
}

static PyObject *
new_message(Scanner *s, PyObject *vals[7])
{
    PyObject *m = s->msg_type->tp_alloc(s->msg_type, 0);
    if (m == NULL)
        return NULL;
    for (int i = 0; i < 7; i++) {
        if (s->offset[i] >= 0) {
            PyObject **slot = (PyObject **)((char *)m + s->offset[i]);
            Py_XSETREF(*slot, Py_NewRef(vals[i]));
        }
        else if (Py_TYPE(s->descr[i])->tp_descr_set(s->descr[i], m, vals[i]) < 0) {
            Py_DECREF(m);
            return NULL;
        }
    }
    return m;
}

/* what the careful path (RecordBuilder.build) would send to classify(text) */
#define T_ANGLE 1     /* '<' or '(' */
#define T_NEWLINE 2   /* more than one line */
#define T_URL 8       /* "://" */
#define T_JUNK 4      /* a mark the careful path would clean away */

static int
scan_text(Scanner *s, PyObject *t)
{
    int kind = PyUnicode_KIND(t);
    const void *data = PyUnicode_DATA(t);
    Py_ssize_t n = PyUnicode_GET_LENGTH(t);
    int want_junk = !PyUnicode_IS_ASCII(t);
    int flags = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, k);
        if (c < 0x80) {
            if (c == '<' || c == '(')
                flags |= T_ANGLE;
            else if (c == '\n')
                flags |= T_NEWLINE;
            else if (c == ':' && k + 2 < n && PyUnicode_READ(kind, data, k + 1) == '/'
                     && PyUnicode_READ(kind, data, k + 2) == '/')
                flags |= T_URL;
        }
        else if (want_junk && c >= 0x61C && in_str(s->junk, c)) {
            flags |= T_JUNK;
        }
    }
    return flags;
}

static inline int
is_ascii_space(Py_UCS4 c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/* plain_authors.get(src[a:i]) as a new reference (NULL: none, or an error). The last few
   hits are remembered with their raw name, and re-checked against the dict (by the cached
   hash of the remembered key) since the careful path may take a name out of it. */
static PyObject *
lookup_author(Scanner *s, PyObject *src, Py_ssize_t a, Py_ssize_t i)
{
    Py_ssize_t n = i - a;
    int kind = PyUnicode_KIND(src);
    const void *data = PyUnicode_DATA(src);
    for (int k = 0; k < 8; k++) {
        PyObject *raw = s->acache_raw[k];
        if (raw == NULL || PyUnicode_GET_LENGTH(raw) != n)
            continue;
        int rk = PyUnicode_KIND(raw);
        const void *rd = PyUnicode_DATA(raw);
        Py_ssize_t j = 0;
        while (j < n && PyUnicode_READ(rk, rd, j) == PyUnicode_READ(kind, data, a + j))
            j++;
        if (j < n)
            continue;
        PyObject *now = PyDict_GetItemWithError(s->plain_authors, raw);
        if (now != NULL && now == s->acache_author[k])
            return Py_NewRef(now);
        if (PyErr_Occurred())
            return NULL;
        Py_CLEAR(s->acache_raw[k]);
        Py_CLEAR(s->acache_author[k]);
        break;
    }
    PyObject *raw = PyUnicode_Substring(src, a, i);
    if (raw == NULL)
        return NULL;
    PyObject *author = PyDict_GetItemWithError(s->plain_authors, raw);   /* borrowed */
    if (author == NULL) {
        Py_DECREF(raw);
        return NULL;
    }
    int k = s->acache_next;
    s->acache_next = (k + 1) & 7;
    Py_XSETREF(s->acache_raw[k], raw);
    Py_XSETREF(s->acache_author[k], Py_NewRef(author));
    return Py_NewRef(author);
}

/* Characters norm_key leaves as they are, and that no split, lower() or NFC step touches:
   emoji and pictographs, their variation selector and joiner. */
static inline int
is_inert(Py_UCS4 c)
{
    return (c >= 0x1F300 && c <= 0x1FAFF) || (c >= 0x2600 && c <= 0x27BF) || c == 0xFE0F
           || c == 0x200D;
}

static int
has(PyObject *t, PyObject *sub)
{
    Py_ssize_t i = PyUnicode_Find(t, sub, 0, PyUnicode_GET_LENGTH(t), 1);
    return i == -2 ? -1 : i >= 0;
}

/* t[i-len(w):i] == w, for an ASCII w */
static int
ends_at(PyObject *t, Py_ssize_t i, const char *w)
{
    Py_ssize_t n = (Py_ssize_t)strlen(w);
    if (i < n)
        return 0;
    for (Py_ssize_t j = 0; j < n; j++)
        if (PyUnicode_READ_CHAR(t, i - n + j) != (Py_UCS4)(unsigned char)w[j])
            return 0;
    return 1;
}

/*
 * classify(text) for a text with no '<' or '(' (flags from scan_text): 1 if it is surely
 * None (a plain text), 0 if the Python function must say, -1 on error. Follows classify
 * step by step: the first line as a placeholder; a location ("Location: https://…", a maps
 * or foursquare link); a poll ("POLL:" …); a long first line; and norm_key(first line)
 * against placeholders, "… document omitted" and call notices.
 */
static int
surely_plain(Scanner *s, PyObject *t, int flags)
{
    if (flags & T_ANGLE)
        return 0;
    Py_ssize_t n = PyUnicode_GET_LENGTH(t);
    Py_ssize_t fe = PyUnicode_FindChar(t, '\n', 0, n, 1);
    if (fe == -2)
        return -1;
    if (fe < 0)
        fe = n;
    /* LOCATION_RE and POLL_RE need a word and a colon first: the text's first colon must be
       the one of an "http(s)://" (on the first line; "POLL\n:" too) */
    Py_ssize_t colon = PyUnicode_FindChar(t, ':', 0, fe, 1);
    if (colon == -2)
        return -1;
    if (colon < 0) {
        if (fe + 1 < n && PyUnicode_READ_CHAR(t, fe + 1) == ':')
            return 0;
    }
    else if (!(colon + 2 < n && PyUnicode_READ_CHAR(t, colon + 1) == '/'
               && PyUnicode_READ_CHAR(t, colon + 2) == '/'
               && (ends_at(t, colon, "http") || ends_at(t, colon, "https")))) {
        return 0;
    }
    if (flags & T_URL) {
        int m = has(t, s->maps_host);
        int f = m == 0 ? has(t, s->foursquare_host) : 0;
        if (m < 0 || f < 0)
            return -1;
        if (m || f)
            return 0;
    }
    PyObject *first = PyUnicode_Substring(t, 0, fe);
    if (first == NULL)
        return -1;
    int result = 0;
    PyObject *hit = PyDict_GetItemWithError(s->placeholders, first);
    if (hit != NULL || PyErr_Occurred()) {
        result = hit != NULL ? 0 : -1;
        goto done;
    }
    if (fe > 80) {
        Py_ssize_t bullet = PyUnicode_FindChar(first, 0x2022, 0, fe, 1);
        if (bullet == -2)
            result = -1;
        else
            result = (fe < 300 && bullet >= 0) ? 0 : 1;
        goto done;
    }
    /* norm_key(first): " ".join(split()).lower().rstrip(". ") and NFC — computed here for
       ASCII and for emoji (no case, no decomposition, not a space or a mark), which pass
       through all of those steps unchanged; any other character: Python says */
    Py_UCS4 buf[96];
    Py_ssize_t k = 0;
    int fk = PyUnicode_KIND(first);
    const void *fd = PyUnicode_DATA(first);
    int pending_space = 0;
    for (Py_ssize_t j = 0; j < fe; j++) {
        Py_UCS4 ch = PyUnicode_READ(fk, fd, j);
        if (ch >= 0x80 && !is_inert(ch))
            goto done;
        if (ch < 0x80 && is_ascii_space(ch)) {
            pending_space = k > 0;
            continue;
        }
        if (pending_space) {
            buf[k++] = ' ';
            pending_space = 0;
        }
        buf[k++] = (ch >= 'A' && ch <= 'Z') ? ch + 32 : ch;
    }
    while (k > 0 && (buf[k - 1] == '.' || buf[k - 1] == ' '))
        k--;
    PyObject *key = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, k);
    if (key == NULL) {
        result = -1;
        goto done;
    }
    hit = PyDict_GetItemWithError(s->placeholders, key);
    if (hit != NULL || PyErr_Occurred()) {
        result = hit != NULL ? 0 : -1;
        Py_DECREF(key);
        goto done;
    }
    /* key.endswith(DOCUMENT_OMITTED_SUFFIXES) or key.startswith(CALL_PREFIXES); only keys
       ending (starting) with a character some suffix ends (prefix starts) with can */
    result = 1;
    for (int pass = 0; pass < 2 && result == 1; pass++) {
        PyObject *tuple = pass ? s->call_prefixes : s->doc_suffixes;
        if (k == 0)
            break;
        unsigned edge = (pass ? buf[0] : buf[k - 1]) & 255;
        if (!(((pass ? s->prefix_first : s->suffix_last)[edge >> 3] >> (edge & 7)) & 1))
            continue;
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(tuple); j++) {
            Py_ssize_t m = PyUnicode_Tailmatch(key, PyTuple_GET_ITEM(tuple, j), 0, k,
                                               pass ? -1 : 1);
            if (m != 0) {
                result = m < 0 ? -1 : 0;
                break;
            }
        }
    }
    Py_DECREF(key);
done:
    Py_DECREF(first);
    return result;
}

/*
 * The record src[a:b] (the text after its header, continuation lines included) by the
 * shortcuts: a Message, or Py_None (new reference) when the careful path must build it, or
 * NULL on error. Each shortcut returns only what RecordBuilder.build would return.
 */
static PyObject *
fast_record(Scanner *s, PyObject *dt, PyObject *src, Py_ssize_t a, Py_ssize_t b)
{
    /* "Name: " on the header's own line, Name a known plain author */
    Py_ssize_t first_end = PyUnicode_FindChar(src, '\n', a, b, 1);
    if (first_end == -2)
        return NULL;
    if (first_end < 0)
        first_end = b;
    Py_ssize_t i = PyUnicode_Find(src, s->colon_space, a, first_end, 1);
    if (i == -2)
        return NULL;
    if (i <= a)
        Py_RETURN_NONE;
    if (b > a && PyUnicode_READ_CHAR(src, b - 1) == '\n')
        Py_RETURN_NONE;                       /* trailing blank lines: build strips them */
    PyObject *author = lookup_author(s, src, a, i);   /* new reference */
    if (author == NULL)
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    PyObject *t = PyUnicode_Substring(src, i + 2, b);
    PyObject *result = NULL, *found = NULL;
    if (t == NULL)
        goto done;
    Py_ssize_t n = PyUnicode_GET_LENGTH(t);
    int flags = scan_text(s, t);
    if (!PyUnicode_IS_ASCII(t)) {
        /* t[:1] in invisible or junk(t): the careful path cleans the text */
        if (n == 0 || in_str(s->invisible, PyUnicode_READ_CHAR(t, 0)) || (flags & T_JUNK)) {
            result = Py_NewRef(Py_None);
            goto done;
        }
    }
    PyObject *kind = s->text_kind, *media_type = Py_None, *attachment = Py_None;
    PyObject *hit = NULL;
    int maybe_ph = 1;
    if (n > 0 && n < 128) {
        unsigned c = PyUnicode_READ_CHAR(t, 0) & 255;
        maybe_ph = (s->ph_map[n][c >> 3] >> (c & 7)) & 1;
    }
    if (maybe_ph)
        hit = PyDict_GetItemWithError(s->placeholders, t);   /* borrowed */
    if (hit == NULL) {
        if (PyErr_Occurred())
            goto done;
        if (n && PyUnicode_READ_CHAR(t, n - 1) == '>') {
            result = Py_NewRef(Py_None);      /* maybe "<This message was edited>" */
            goto done;
        }
        /* a notice WhatsApp wrote under a name? (text.startswith(author), the E2E notice) */
        Py_ssize_t an = PyUnicode_GET_LENGTH(author);
        int m = an <= n;
        if (m) {
            int ak = PyUnicode_KIND(author), tk = PyUnicode_KIND(t);
            const void *ad = PyUnicode_DATA(author), *td = PyUnicode_DATA(t);
            for (Py_ssize_t j = 0; j < an && m; j++)
                m = PyUnicode_READ(ak, ad, j) == PyUnicode_READ(tk, td, j);
        }
        if (m) {
            result = Py_NewRef(Py_None);
            goto done;
        }
        if (n >= s->e2e_len) {
            PyObject *head = PyUnicode_Substring(t, 0, 12);
            if (head == NULL)
                goto done;
            int c = PySet_Contains(s->e2e_heads, head);
            Py_DECREF(head);
            if (c < 0)
                goto done;
            if (c) {
                result = Py_NewRef(Py_None);
                goto done;
            }
        }
        int triggers = flags & (T_ANGLE | T_NEWLINE | T_URL);
        int plain = triggers ? surely_plain(s, t, flags) : 1;
        if (plain < 0)
            goto done;
        if (!plain) {
            /* media with a file name, a location, a poll …: what classify(text) says */
            found = PyObject_CallOneArg(s->classify_text, t);
            if (found == NULL)
                goto done;
            if (found != Py_None) {
                if (!PyTuple_Check(found) || PyTuple_GET_SIZE(found) != 3) {
                    PyErr_SetString(PyExc_TypeError, "classify_text must return a 3-tuple");
                    goto done;
                }
                kind = PyTuple_GET_ITEM(found, 0);
                media_type = PyTuple_GET_ITEM(found, 1);
                attachment = PyTuple_GET_ITEM(found, 2);
            }
        }
    }
    else {
        if (!PyTuple_Check(hit) || PyTuple_GET_SIZE(hit) < 3) {
            PyErr_SetString(PyExc_TypeError, "placeholder values must be 3-tuples");
            goto done;
        }
        kind = PyTuple_GET_ITEM(hit, 0);
        media_type = PyTuple_GET_ITEM(hit, 1);
        attachment = PyTuple_GET_ITEM(hit, 2);
    }
    PyObject *vals[7] = {dt, author, t, kind, Py_False, attachment, media_type};
    result = new_message(s, vals);
done:
    Py_DECREF(author);
    Py_XDECREF(t);
    Py_XDECREF(found);
    return result;
}

/* The text after the open record's header, with its continuation lines (new ref). */
static PyObject *
open_rest(Scanner *s)
{
    if (s->p_carry == NULL)
        return PyUnicode_Substring(s->cur, s->p_start, s->p_stop);
    if (s->c_start < 0 || s->cur == NULL)
        return Py_NewRef(s->p_carry);
    PyObject *more = PyUnicode_Substring(s->cur, s->c_start, s->c_stop);
    if (more == NULL)
        return NULL;
    PyObject *parts = PyTuple_Pack(3, s->p_carry, s->newline, more);
    Py_DECREF(more);
    if (parts == NULL)
        return NULL;
    PyObject *rest = PyUnicode_Join(s->empty, parts);
    Py_DECREF(parts);
    return rest;
}

/* The open record's Message (new ref), NULL on error. */
static PyObject *
close_record(Scanner *s)
{
    PyObject *msg;
    if (s->p_carry == NULL)
        msg = fast_record(s, s->p_dt, s->cur, s->p_start, s->p_stop);
    else if (s->c_start < 0)
        msg = fast_record(s, s->p_dt, s->p_carry, 0, PyUnicode_GET_LENGTH(s->p_carry));
    else
        msg = Py_NewRef(Py_None);
    if (msg != Py_None)
        return msg;
    Py_DECREF(msg);
    PyObject *rest = open_rest(s);
    if (rest == NULL)
        return NULL;
    msg = PyObject_CallFunctionObjArgs(s->build, s->p_dt, rest, NULL);
    Py_DECREF(rest);
    return msg;
}

/* ---- the loop --------------------------------------------------------------------------- */

/* start(dt, rest, header_line_no, line_no, chunks): the record the Python side left open
   (its header on line header_line_no), then str chunks from line line_no on */
static PyObject *
Scanner_start(Scanner *s, PyObject *args)
{
    PyObject *dt, *rest, *chunks;
    Py_ssize_t p_line_no, line_no;
    if (!PyArg_ParseTuple(args, "OUnnO", &dt, &rest, &p_line_no, &line_no, &chunks))
        return NULL;
    PyObject *it = PyObject_GetIter(chunks);
    if (it == NULL)
        return NULL;
    Py_XSETREF(s->texts, it);
    Py_XSETREF(s->p_dt, Py_NewRef(dt));
    Py_XSETREF(s->p_carry, Py_NewRef(rest));
    Py_CLEAR(s->cur);
    Py_CLEAR(s->tail);
    Py_CLEAR(s->pending);
    s->c_start = s->c_stop = -1;
    s->p_more_lines = s->p_more_chars = 0;
    s->p_line_no = p_line_no;
    s->line_no = line_no;
    s->texts_done = 0;
    Py_RETURN_NONE;
}

/* The next block of complete lines into s->cur: 1, 0 at the end of the input, -1 on error.
   Like Parser._blocks: the text up to the last line end; the rest waits for more. */
static int
next_block(Scanner *s)
{
    Py_ssize_t start = 0;
    for (;;) {
        PyObject *buf;
        if (s->pending != NULL) {
            /* the rest of a chunk whose first line ended a line of the previous one */
            buf = s->pending;
            s->pending = NULL;
            start = s->pending_pos;
        }
        else {
            if (s->texts_done) {
                if (s->tail == NULL || PyUnicode_GET_LENGTH(s->tail) == 0) {
                    Py_CLEAR(s->tail);
                    return 0;
                }
                if (PyUnicode_GET_LENGTH(s->tail) > s->max_line) {
                    PyObject *r = PyObject_CallFunction(s->long_line, "n", s->line_no);
                    Py_XDECREF(r);
                    return -1;
                }
                s->cur = s->tail;        /* the last line, with no line end */
                s->tail = NULL;
                s->cur_n = PyUnicode_GET_LENGTH(s->cur);
                start = 0;
                break;
            }
            buf = PyIter_Next(s->texts);
            if (buf == NULL) {
                if (PyErr_Occurred())
                    return -1;
                s->texts_done = 1;
                Py_CLEAR(s->texts);
                continue;
            }
            if (!PyUnicode_Check(buf)) {
                Py_DECREF(buf);
                PyErr_SetString(PyExc_TypeError, "chunks must be str");
                return -1;
            }
            start = 0;
            if (s->tail != NULL) {
                /* the line cut at the chunk boundary becomes a block of its own: copying
                   only it, not the whole chunk, onto the part line */
                Py_ssize_t n = PyUnicode_GET_LENGTH(buf);
                Py_ssize_t first = PyUnicode_FindChar(buf, '\n', 0, n, 1);
                if (first == -2) {
                    Py_DECREF(buf);
                    return -1;
                }
                PyObject *head = PyUnicode_Substring(buf, 0, first < 0 ? n : first);
                PyObject *joined = head ? PyUnicode_Concat(s->tail, head) : NULL;
                Py_XDECREF(head);
                Py_CLEAR(s->tail);
                if (joined == NULL) {
                    Py_DECREF(buf);
                    return -1;
                }
                if (first < 0) {
                    Py_DECREF(buf);
                    s->tail = joined;
                    if (PyUnicode_GET_LENGTH(joined) > s->max_line) {
                        PyObject *r = PyObject_CallFunction(s->long_line, "n", s->line_no);
                        Py_XDECREF(r);
                        return -1;
                    }
                    continue;
                }
                s->pending = buf;
                s->pending_pos = first + 1;
                s->cur = joined;
                s->cur_n = PyUnicode_GET_LENGTH(joined);
                start = 0;
                break;
            }
        }
        Py_ssize_t n = PyUnicode_GET_LENGTH(buf);
        Py_ssize_t cut = PyUnicode_FindChar(buf, '\n', start, n, -1);
        if (cut == -2) {
            Py_DECREF(buf);
            return -1;
        }
        if (cut < 0) {
            /* no line end: a part line, for the next chunk */
            if (start < n) {
                s->tail = PyUnicode_Substring(buf, start, n);
                if (s->tail == NULL) {
                    Py_DECREF(buf);
                    return -1;
                }
                if (n - start > s->max_line) {
                    Py_DECREF(buf);
                    PyObject *r = PyObject_CallFunction(s->long_line, "n", s->line_no);
                    Py_XDECREF(r);
                    return -1;
                }
            }
            Py_DECREF(buf);
            continue;
        }
        if (cut + 1 < n) {
            s->tail = PyUnicode_Substring(buf, cut + 1, n);
            if (s->tail == NULL) {
                Py_DECREF(buf);
                return -1;
            }
        }
        s->cur = buf;
        s->cur_n = cut;
        break;
    }
    s->pos = start;
    s->c_start = s->c_stop = -1;
    return 1;
}

/* The open record outlives the current block: keep its text. 0 or -1. */
static int
end_block(Scanner *s)
{
    if (s->p_dt != NULL) {
        PyObject *rest = open_rest(s);
        if (rest == NULL)
            return -1;
        Py_XSETREF(s->p_carry, rest);
    }
    s->c_start = s->c_stop = -1;
    Py_CLEAR(s->cur);
    return 0;
}

static PyObject *
Scanner_next(Scanner *s)
{
    for (;;) {
        if (s->cur == NULL) {
            int got = next_block(s);
            if (got < 0)
                return NULL;
            if (got == 0) {
                /* the last record always takes the careful path, as in the Python loop */
                if (s->p_dt == NULL)
                    return NULL;
                PyObject *rest = open_rest(s);
                if (rest == NULL)
                    return NULL;
                PyObject *msg = PyObject_CallFunctionObjArgs(s->build, s->p_dt, rest, NULL);
                Py_DECREF(rest);
                Py_CLEAR(s->p_dt);
                Py_CLEAR(s->p_carry);
                return msg;
            }
        }
        if (s->pos > s->cur_n) {
            if (end_block(s) < 0)
                return NULL;
            continue;
        }
        PyObject *text = s->cur;
        int kind = PyUnicode_KIND(text);
        const void *data = PyUnicode_DATA(text);
        Py_ssize_t ls = s->pos;
        Py_ssize_t le = PyUnicode_FindChar(text, '\n', ls, s->cur_n, 1);
        if (le == -2)
            return NULL;
        if (le == -1)
            le = s->cur_n;
        Py_ssize_t line_no = s->line_no;
        s->pos = le + 1;
        s->line_no++;

        PyObject *dt = NULL;
        Py_ssize_t end = -1;
        int r = 0;
        /* formats.could_be_header: neither a template, nor a cached prefix, nor a regex can
           match a line that starts otherwise — a continuation line */
        Py_UCS4 c0 = ls < le ? PyUnicode_READ(kind, data, ls) : 0;
        if (ls == le || !(c0 < 0x80 ? ((c0 >= '0' && c0 <= '9') || c0 == '[')
                          : (Py_UNICODE_ISDIGIT(c0) || in_str(s->invisible, c0)
                             || c0 == 0x5348 || c0 == 0x4E0A || c0 == 0xC624)))
            r = -2;
        if (!r && s->n_pre) {
            r = try_templates(s, kind, data, ls, le, &dt, &end);
            if (r < 0)
                return NULL;
        }
        if (!r && s->dl0 >= 0) {
            r = try_cached(s, ls, le, s->dl0, s->tl0, &dt);
            if (r < 0)
                return NULL;
            if (r)
                end = s->dl0 + s->tl0;
        }
        if (!r) {
            Py_ssize_t nl = PyList_GET_SIZE(s->lens);
            for (Py_ssize_t k = 0; k < nl && !r; k++) {
                PyObject *pair = PyList_GET_ITEM(s->lens, k);
                if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
                    PyErr_SetString(PyExc_TypeError, "lens holds (int, int) pairs");
                    return NULL;
                }
                Py_ssize_t dl = PyLong_AsSsize_t(PyTuple_GET_ITEM(pair, 0));
                Py_ssize_t tl = PyLong_AsSsize_t(PyTuple_GET_ITEM(pair, 1));
                if ((dl == -1 || tl == -1) && PyErr_Occurred())
                    return NULL;
                r = try_cached(s, ls, le, dl, tl, &dt);
                if (r < 0)
                    return NULL;
                if (r) {
                    s->dl0 = dl;
                    s->tl0 = tl;
                    end = dl + tl;
                }
            }
        }
        if (!r) {
            PyObject *line = PyUnicode_Substring(text, ls, le);
            if (line == NULL)
                return NULL;
            PyObject *no = PyLong_FromSsize_t(line_no);
            PyObject *got = no ? PyObject_CallFunctionObjArgs(s->header, line, no, NULL) : NULL;
            Py_DECREF(line);
            Py_XDECREF(no);
            if (got == NULL)
                return NULL;
            if (got != Py_None) {
                Py_ssize_t dl, tl;
                if (!PyArg_ParseTuple(got, "Onnn", &dt, &end, &dl, &tl)) {
                    Py_DECREF(got);
                    return NULL;
                }
                Py_INCREF(dt);
                if (dl >= 0) {
                    s->dl0 = dl;
                    s->tl0 = tl;
                }
            }
            Py_DECREF(got);
        }
        if (r == -2 || dt == NULL) {
            /* a continuation line of the open record */
            if (s->p_dt == NULL) {
                PyErr_SetString(PyExc_RuntimeError, "continuation line without an open record");
                return NULL;
            }
            s->p_more_lines++;
            s->p_more_chars += le - ls;
            if (s->p_carry != NULL) {
                if (s->c_start < 0)
                    s->c_start = ls;
                s->c_stop = le;
            }
            else {
                s->p_stop = le;
            }
            if ((s->p_more_lines & 1023) == 0) {
                PyObject *res = PyObject_CallFunction(s->check_size, "nnn", s->p_more_lines,
                                                      s->p_more_chars, s->p_line_no);
                if (res == NULL)
                    return NULL;
                Py_DECREF(res);
            }
            continue;
        }
        PyObject *msg = NULL;
        if (s->p_dt != NULL) {
            msg = close_record(s);
            if (msg == NULL) {
                Py_DECREF(dt);
                return NULL;
            }
        }
        Py_XSETREF(s->p_dt, dt);     /* steals the reference */
        Py_CLEAR(s->p_carry);
        s->p_start = ls + end < le ? ls + end : le;
        s->p_stop = le;
        s->c_start = s->c_stop = -1;
        s->p_more_lines = s->p_more_chars = 0;
        s->p_line_no = line_no;
        if (msg != NULL)
            return msg;
    }
}

static PyObject *
Scanner_iter(PyObject *s)
{
    return Py_NewRef(s);
}

static PyMethodDef Scanner_methods[] = {
    {"start", (PyCFunction)Scanner_start, METH_VARARGS,
     "start(dt, rest, header_line_no, line_no, chunks): the record the Python side left open "
     "(its header on line header_line_no), then the text from line line_no on, in str chunks"},
    {"add_template", (PyCFunction)Scanner_add_template, METH_VARARGS,
     "add_template(is_suffix, tokens, ampm) -> bool: a header prefix or suffix the regex read; "
     "tokens are literal str and field numbers (0-2 date fields, 3 H, 4 M, 5 S); ampm 0 none, "
     "1 am, 2 pm"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "wachat_tui.core.parse._hotloop.Scanner",
    .tp_doc = PyDoc_STR("The parser's hot loop: an iterator of Messages over blocks of lines."),
    .tp_basicsize = sizeof(Scanner),
    .tp_itemsize = 0,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scanner_init,
    .tp_dealloc = (destructor)Scanner_dealloc,
    .tp_traverse = (traverseproc)Scanner_traverse,
    .tp_clear = (inquiry)Scanner_clear,
    .tp_iter = Scanner_iter,
    .tp_iternext = (iternextfunc)Scanner_next,
    .tp_methods = Scanner_methods,
};

/* ---- messages.jsonl: Message → JSON line ------------------------------------------------- */

/*
 * json_lines(messages, message_type, fallback) -> bytes: each message's
 * Message.to_json_line() (json.dumps(m.to_json(), ensure_ascii=False), character for
 * character) and a line end, encoded in UTF-8 — what a project's chats/<id>/messages.jsonl
 * holds. A message this function does not write exactly as the Python method would (not a
 * plain Message, a time with a time zone, a field of an unusual type, a lone surrogate) is
 * written with fallback(message), the Python method itself.
 */

typedef struct {
    char *buf;
    Py_ssize_t len, cap;
} Buf;

static int
buf_reserve(Buf *b, Py_ssize_t need)
{
    if (b->len + need <= b->cap)
        return 0;
    Py_ssize_t cap = b->cap * 2;
    if (cap < b->len + need)
        cap = b->len + need + 4096;
    char *nb = PyMem_Realloc(b->buf, cap);
    if (nb == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->buf = nb;
    b->cap = cap;
    return 0;
}

static int
buf_put(Buf *b, const char *text, Py_ssize_t n)
{
    if (buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->buf + b->len, text, n);
    b->len += n;
    return 0;
}

/* A JSON string as json's encode_basestring writes it (ensure_ascii=False), in UTF-8.
   0: written; 1: not an exact str or holds a surrogate (nothing written); -1: error. */
static int
buf_json_str(Buf *b, PyObject *s)
{
    static const char hex[] = "0123456789abcdef";
    if (!PyUnicode_CheckExact(s))
        return 1;
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    if (buf_reserve(b, 6 * n + 2) < 0)
        return -1;
    char *o = b->buf + b->len;
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    *o++ = '"';
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < 0x80) {
            if (c >= 0x20 && c != '"' && c != '\\') {
                *o++ = (char)c;
                continue;
            }
            *o++ = '\\';
            switch (c) {
            case '"': *o++ = '"'; break;
            case '\\': *o++ = '\\'; break;
            case '\n': *o++ = 'n'; break;
            case '\r': *o++ = 'r'; break;
            case '\t': *o++ = 't'; break;
            case '\b': *o++ = 'b'; break;
            case '\f': *o++ = 'f'; break;
            default:
                *o++ = 'u'; *o++ = '0'; *o++ = '0';
                *o++ = hex[c >> 4]; *o++ = hex[c & 15];
            }
        }
        else if (c < 0x800) {
            *o++ = (char)(0xC0 | (c >> 6));
            *o++ = (char)(0x80 | (c & 0x3F));
        }
        else if (c >= 0xD800 && c <= 0xDFFF) {
            return 1;    /* b->len unchanged: nothing of this string counts */
        }
        else if (c < 0x10000) {
            *o++ = (char)(0xE0 | (c >> 12));
            *o++ = (char)(0x80 | ((c >> 6) & 0x3F));
            *o++ = (char)(0x80 | (c & 0x3F));
        }
        else {
            *o++ = (char)(0xF0 | (c >> 18));
            *o++ = (char)(0x80 | ((c >> 12) & 0x3F));
            *o++ = (char)(0x80 | ((c >> 6) & 0x3F));
            *o++ = (char)(0x80 | (c & 0x3F));
        }
    }
    *o++ = '"';
    b->len = o - b->buf;
    return 0;
}

static inline char *
put_digits(char *o, int value, int width)
{
    for (int k = width - 1; k >= 0; k--) {
        o[k] = (char)('0' + value % 10);
        value /= 10;
    }
    return o + width;
}

/* One message's line. 0: written; 1: not written (use the fallback); -1: error. */
static int
buf_message(Buf *b, PyObject *m, Py_ssize_t *offset)
{
    PyObject *f[7];
    for (int i = 0; i < 7; i++) {
        f[i] = *(PyObject **)((char *)m + offset[i]);
        if (f[i] == NULL)
            return 1;
    }
    PyObject *t = f[0], *author = f[1], *edited = f[4], *attachment = f[5], *media_type = f[6];
    if (!PyDateTime_CheckExact(t) || PyDateTime_DATE_GET_TZINFO(t) != Py_None)
        return 1;
    if (edited != Py_True && edited != Py_False)
        return 1;
    if (attachment != Py_None && !PyUnicode_CheckExact(attachment))
        return 1;
    if (media_type != Py_None && !PyUnicode_CheckExact(media_type))
        return 1;
    int year = PyDateTime_GET_YEAR(t);
    if (year < 1 || year > 9999)
        return 1;
    if (buf_reserve(b, 64) < 0)
        return -1;
    char *o = b->buf + b->len;
    memcpy(o, "{\"time\": \"", 10);
    o += 10;
    o = put_digits(o, year, 4);
    *o++ = '-';
    o = put_digits(o, PyDateTime_GET_MONTH(t), 2);
    *o++ = '-';
    o = put_digits(o, PyDateTime_GET_DAY(t), 2);
    *o++ = 'T';
    o = put_digits(o, PyDateTime_DATE_GET_HOUR(t), 2);
    *o++ = ':';
    o = put_digits(o, PyDateTime_DATE_GET_MINUTE(t), 2);
    *o++ = ':';
    o = put_digits(o, PyDateTime_DATE_GET_SECOND(t), 2);
    memcpy(o, "\", \"author\": ", 13);
    o += 13;
    b->len = o - b->buf;
    int r;
    if (author == Py_None) {
        if (buf_put(b, "null", 4) < 0)
            return -1;
    }
    else if ((r = buf_json_str(b, author)) != 0)
        return r;
    if (buf_put(b, ", \"text\": ", 10) < 0)
        return -1;
    if ((r = buf_json_str(b, f[2])) != 0)
        return r;
    if (buf_put(b, ", \"kind\": ", 10) < 0)
        return -1;
    if ((r = buf_json_str(b, f[3])) != 0)
        return r;
    if (edited == Py_True && buf_put(b, ", \"edited\": true", 16) < 0)
        return -1;
    if (attachment != Py_None && PyUnicode_GET_LENGTH(attachment)) {
        if (buf_put(b, ", \"attachment\": ", 16) < 0)
            return -1;
        if ((r = buf_json_str(b, attachment)) != 0)
            return r;
    }
    if (media_type != Py_None && PyUnicode_GET_LENGTH(media_type)) {
        if (buf_put(b, ", \"media_type\": ", 16) < 0)
            return -1;
        if ((r = buf_json_str(b, media_type)) != 0)
            return r;
    }
    return buf_put(b, "}\n", 2);
}

static PyObject *
json_lines(PyObject *module, PyObject *args)
{
    PyObject *messages, *msg_type, *fallback;
    if (!PyArg_ParseTuple(args, "OO!O:json_lines", &messages, &PyType_Type, &msg_type, &fallback))
        return NULL;
    Py_ssize_t offset[7];
    int direct = 1;
    for (int i = 0; i < 7; i++) {
        PyObject *d = PyObject_GetAttrString(msg_type, FIELD_NAMES[i]);
        if (d == NULL)
            return NULL;
        if (Py_IS_TYPE(d, &PyMemberDescr_Type)
                && ((PyMemberDescrObject *)d)->d_member->type == T_OBJECT_EX)
            offset[i] = ((PyMemberDescrObject *)d)->d_member->offset;
        else
            direct = 0;
        Py_DECREF(d);
    }
    PyObject *seq = PySequence_Fast(messages, "json_lines: messages must be a sequence");
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    Buf b = {NULL, 0, 0};
    if (buf_reserve(&b, 128 * n + 64) < 0)
        goto fail;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *m = items[k];
        Py_ssize_t start = b.len;
        int r = (direct && Py_IS_TYPE(m, (PyTypeObject *)msg_type)) ? buf_message(&b, m, offset) : 1;
        if (r < 0)
            goto fail;
        if (r == 1) {
            b.len = start;
            PyObject *line = PyObject_CallOneArg(fallback, m);
            if (line == NULL)
                goto fail;
            Py_ssize_t size;
            const char *utf8 = PyUnicode_Check(line) ? PyUnicode_AsUTF8AndSize(line, &size) : NULL;
            if (utf8 == NULL) {
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_TypeError, "json_lines: the fallback must return a str");
                Py_DECREF(line);
                goto fail;
            }
            r = buf_put(&b, utf8, size);
            Py_DECREF(line);
            if (r < 0 || buf_put(&b, "\n", 1) < 0)
                goto fail;
        }
    }
    Py_DECREF(seq);
    PyObject *out = PyBytes_FromStringAndSize(b.buf, b.len);
    PyMem_Free(b.buf);
    return out;
fail:
    Py_DECREF(seq);
    PyMem_Free(b.buf);
    return NULL;
}

static PyMethodDef module_methods[] = {
    {"json_lines", (PyCFunction)json_lines, METH_VARARGS,
     "json_lines(messages, message_type, fallback) -> bytes: each message's to_json_line() and "
     "a line end, in UTF-8 (fallback(message) writes those it cannot write exactly)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef hotloop_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "wachat_tui.core.parse._hotloop",
    .m_doc = PyDoc_STR("The WhatsApp parser's hot loop (see core/parse/hotloop.py)."),
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__hotloop(void)
{
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL)
        return NULL;
    if (PyType_Ready(&ScannerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&hotloop_module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "Scanner", (PyObject *)&ScannerType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
