/*
 * tls.c: GnuTLS side: credentials (files or an ephemeral ECDSA P-256
 * certificate), priority, ALPN selection, sessions wired to ngtcp2,
 * server verification on clients, and peer facts (ALPN, SNI, fingerprint).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* recvmmsg, struct mmsghdr */
#endif

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "quic_int.h"

/* TLS 1.3 only, AES-128-GCM first (ChaCha20 is 10x slower in nettle here). */
static const char hq_default_priority[] =
    "%DISABLE_TLS13_COMPAT_MODE:NORMAL:-VERS-ALL:+VERS-TLS1.3:"
    "-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-CCM:"
    "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1";

#define HQ_ALPN_OFFER_MAX	16
#define HQ_TLS_EXT_ALPN		16

/* ALPN identifiers offered in a ClientHello. */
struct alpn_offer {
	char		 name[HQ_ALPN_OFFER_MAX][HQ_ALPN_MAX + 1];
	const char	*ptr[HQ_ALPN_OFFER_MAX];
	size_t		 n;
};

/* Map a GnuTLS return code to a HYP_E* code. */
static int
tls_err(struct hq_ep *ep, const char *what, int rv)
{
	hq_logf(ep, HQ_LOG_ERR, "%s: %s", what, gnutls_strerror(rv));
	if (rv == GNUTLS_E_FILE_ERROR)
		return (HYP_ENOENT);
	if (rv == GNUTLS_E_MEMORY_ERROR)
		return (HYP_ENOMEM);
	return (HYP_EINVAL);
}

/* Fingerprint of DER bytes. */
static void
fp_der(const gnutls_datum_t *der, char out[HQ_FP_LEN + 1])
{
	uint8_t	h[32];

	gnutls_hash_fast(GNUTLS_DIG_SHA256, der->data, der->size, h);
	hq_fp_encode(h, out);
}

/* Create a key and a certificate (self-signed or issued) per g. */
static int
cert_make(const struct hq_certgen *g, gnutls_x509_crt_t *crtp,
    gnutls_x509_privkey_t *keyp)
{
	gnutls_x509_crt_t	 crt = NULL, icrt = NULL;
	gnutls_x509_privkey_t	 key = NULL, ikey = NULL;
	gnutls_datum_t		 d;
	uint8_t			 serial[16], kid[64], ip[16];
	size_t			 kidlen = sizeof(kid);
	const char		*cn = g->cn != NULL ? g->cn : "localhost";
	time_t			 now = time(NULL);
	unsigned		 days = g->days != 0 ? g->days : 30;
	unsigned		 usage;
	int			 rv;

	if ((rv = gnutls_x509_privkey_init(&key)) < 0 ||
	    (rv = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0 ||
	    (rv = gnutls_x509_crt_init(&crt)) < 0)
		goto out;
	if ((rv = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial))) < 0)
		goto out;
	serial[0] &= 0x7f;
	serial[0] |= 0x01;
	usage = GNUTLS_KEY_DIGITAL_SIGNATURE;
	if (g->is_ca)
		usage |= GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN;
	if ((rv = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (rv = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (rv = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
	    (rv = gnutls_x509_crt_set_expiration_time(crt,
	    now + (time_t)days * 86400)) < 0 ||
	    (rv = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
	    0, cn, (unsigned)strlen(cn))) < 0 ||
	    (rv = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (rv = gnutls_x509_crt_set_basic_constraints(crt, g->is_ca ? 1 : 0,
	    -1)) < 0 ||
	    (rv = gnutls_x509_crt_set_key_usage(crt, usage)) < 0)
		goto out;
	if (!g->is_ca) {
		if ((rv = gnutls_x509_crt_set_subject_alt_name(crt,
		    GNUTLS_SAN_DNSNAME, cn, (unsigned)strlen(cn),
		    GNUTLS_FSAN_APPEND)) < 0 ||
		    (rv = gnutls_x509_crt_set_key_purpose_oid(crt,
		    GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
		    (rv = gnutls_x509_crt_set_key_purpose_oid(crt,
		    GNUTLS_KP_TLS_WWW_CLIENT, 0)) < 0)
			goto out;
	}
	if (g->ip_san != NULL) {
		if (inet_pton(AF_INET, g->ip_san, ip) == 1)
			rv = gnutls_x509_crt_set_subject_alt_name(crt,
			    GNUTLS_SAN_IPADDRESS, ip, 4, GNUTLS_FSAN_APPEND);
		else if (inet_pton(AF_INET6, g->ip_san, ip) == 1)
			rv = gnutls_x509_crt_set_subject_alt_name(crt,
			    GNUTLS_SAN_IPADDRESS, ip, 16, GNUTLS_FSAN_APPEND);
		else
			rv = GNUTLS_E_INVALID_REQUEST;
		if (rv < 0)
			goto out;
	}
	if ((rv = gnutls_x509_crt_get_key_id(crt, 0, kid, &kidlen)) < 0 ||
	    (rv = gnutls_x509_crt_set_subject_key_id(crt, kid, kidlen)) < 0)
		goto out;
	if (g->issuer_cert_pem != NULL && g->issuer_key_pem != NULL) {
		if ((rv = gnutls_x509_crt_init(&icrt)) < 0 ||
		    (rv = gnutls_x509_privkey_init(&ikey)) < 0)
			goto out;
		d.data = (unsigned char *)(uintptr_t)g->issuer_cert_pem;
		d.size = (unsigned)strlen(g->issuer_cert_pem);
		if ((rv = gnutls_x509_crt_import(icrt, &d,
		    GNUTLS_X509_FMT_PEM)) < 0)
			goto out;
		d.data = (unsigned char *)(uintptr_t)g->issuer_key_pem;
		d.size = (unsigned)strlen(g->issuer_key_pem);
		if ((rv = gnutls_x509_privkey_import(ikey, &d,
		    GNUTLS_X509_FMT_PEM)) < 0)
			goto out;
		kidlen = sizeof(kid);
		if (gnutls_x509_crt_get_subject_key_id(icrt, kid, &kidlen,
		    NULL) >= 0)
			(void)gnutls_x509_crt_set_authority_key_id(crt, kid,
			    kidlen);
		rv = gnutls_x509_crt_sign2(crt, icrt, ikey, GNUTLS_DIG_SHA256,
		    0);
	} else
		rv = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0);
out:
	if (icrt != NULL)
		gnutls_x509_crt_deinit(icrt);
	if (ikey != NULL)
		gnutls_x509_privkey_deinit(ikey);
	if (rv < 0) {
		if (crt != NULL)
			gnutls_x509_crt_deinit(crt);
		if (key != NULL)
			gnutls_x509_privkey_deinit(key);
		return (rv);
	}
	*crtp = crt;
	*keyp = key;
	return (0);
}

/* Copy a GnuTLS datum into a malloc'd NUL-ended string. */
static char *
datum_str(const gnutls_datum_t *d)
{
	char	*s = malloc(d->size + 1);

	if (s != NULL) {
		memcpy(s, d->data, d->size);
		s[d->size] = '\0';
	}
	return (s);
}

/* Generate a key and certificate as PEM strings. */
int
hq_cert_generate(const struct hq_certgen *g, char **cert_pem, char **key_pem)
{
	gnutls_x509_crt_t	crt;
	gnutls_x509_privkey_t	key;
	gnutls_datum_t		dc = { NULL, 0 }, dk = { NULL, 0 };
	int			rv;

	*cert_pem = *key_pem = NULL;
	if ((rv = cert_make(g, &crt, &key)) < 0)
		return (HYP_EINVAL);
	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &dc) < 0 ||
	    gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &dk) < 0)
		rv = HYP_EINVAL;
	else {
		*cert_pem = datum_str(&dc);
		*key_pem = datum_str(&dk);
		rv = (*cert_pem != NULL && *key_pem != NULL) ? 0 : HYP_ENOMEM;
	}
	gnutls_free(dc.data);
	if (dk.data != NULL) {
		sodium_memzero(dk.data, dk.size);
		gnutls_free(dk.data);
	}
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	if (rv != 0) {
		free(*cert_pem);
		free(*key_pem);
		*cert_pem = *key_pem = NULL;
	}
	return (rv);
}

/* Fingerprint of a PEM certificate. */
int
hq_cert_fp_pem(const char *cert_pem, char out[HQ_FP_LEN + 1])
{
	gnutls_x509_crt_t	crt;
	gnutls_datum_t		d, der = { NULL, 0 };
	int			rv;

	if (gnutls_x509_crt_init(&crt) < 0)
		return (HYP_ENOMEM);
	d.data = (unsigned char *)(uintptr_t)cert_pem;
	d.size = (unsigned)strlen(cert_pem);
	rv = HYP_EINVAL;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) >= 0 &&
	    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der) >= 0) {
		fp_der(&der, out);
		rv = 0;
	}
	gnutls_free(der.data);
	gnutls_x509_crt_deinit(crt);
	return (rv);
}

/* Allocate credentials and priority, and copy the ALPN list. */
int
hq_tls_init(struct hq_tls *t, struct hq_ep *ep, const char *priority,
    const char *const *alpn, size_t nalpn)
{
	const char	*errpos = NULL;
	size_t		 i, len;
	int		 rv;

	if (nalpn == 0 || nalpn > HQ_MAX_ALPN)
		return (HYP_EINVAL);
	for (i = 0; i < nalpn; i++) {
		if (alpn[i] == NULL || (len = strlen(alpn[i])) == 0 ||
		    len > HQ_ALPN_MAX)
			return (HYP_EINVAL);
		memcpy(t->alpnbuf[i], alpn[i], len + 1);
		t->alpn[i].data = (unsigned char *)t->alpnbuf[i];
		t->alpn[i].size = (unsigned)len;
	}
	t->nalpn = nalpn;
	if ((rv = gnutls_certificate_allocate_credentials(&t->cred)) < 0)
		return (tls_err(ep, "credentials", rv));
	if ((rv = gnutls_priority_init(&t->prio, priority != NULL ? priority :
	    hq_default_priority, &errpos)) < 0) {
		hq_logf(ep, HQ_LOG_ERR, "bad TLS priority near '%s'",
		    errpos != NULL ? errpos : "");
		return (HYP_EINVAL);
	}
	return (0);
}

/* Load the certificate files, or generate an ephemeral certificate. */
int
hq_tls_load_cert(struct hq_tls *t, struct hq_ep *ep, const struct hq_cert *cert)
{
	struct hq_certgen	 g;
	gnutls_x509_crt_t	 crt;
	gnutls_x509_privkey_t	 key;
	gnutls_datum_t		 der;
	int			 rv;

	if (cert->cert_file == NULL || strcmp(cert->cert_file, "auto") == 0) {
		memset(&g, 0, sizeof(g));
		g.cn = cert->auto_cn != NULL ? cert->auto_cn : "localhost";
		if ((rv = cert_make(&g, &crt, &key)) < 0)
			return (tls_err(ep, "generate certificate", rv));
		rv = gnutls_certificate_set_x509_key(t->cred, &crt, 1, key);
		gnutls_x509_crt_deinit(crt);
		gnutls_x509_privkey_deinit(key);
		if (rv < 0)
			return (tls_err(ep, "set certificate", rv));
	} else {
		if (cert->key_file == NULL)
			return (HYP_EINVAL);
		if ((rv = gnutls_certificate_set_x509_key_file(t->cred,
		    cert->cert_file, cert->key_file, GNUTLS_X509_FMT_PEM)) < 0)
			return (tls_err(ep, cert->cert_file, rv));
	}
	if ((rv = gnutls_certificate_get_crt_raw(t->cred, 0, 0, &der)) < 0)
		return (tls_err(ep, "read certificate", rv));
	fp_der(&der, t->fp);
	t->have_cert = 1;
	return (0);
}

/* Strip base64 padding and check the length of a pin. */
static int
pin_copy(char out[HQ_FP_LEN + 1], const char *pin)
{
	size_t	len = strlen(pin);

	while (len > 0 && pin[len - 1] == '=')
		len--;
	if (len != HQ_FP_LEN)
		return (HYP_EINVAL);
	memcpy(out, pin, len);
	out[len] = '\0';
	return (0);
}

/* Configure server verification on a client; refuses "nothing" silently. */
int
hq_tls_set_verify(struct hq_tls *t, struct hq_ep *ep, const struct hq_verify *v,
    const char *sni)
{
	const char	*host;
	size_t		 i;
	int		 rv;

	if (v->insecure) {
		t->insecure = 1;
		hq_logf(ep, HQ_LOG_WARN, "server certificate NOT verified "
		    "(insecure mode)");
		return (0);
	}
	if (v->npin > HQ_MAX_PINS || v->nsan > HQ_MAX_SANS)
		return (HYP_EINVAL);
	for (i = 0; i < v->npin; i++) {
		if (v->pin[i] == NULL || pin_copy(t->pin[i], v->pin[i]) != 0)
			return (HYP_EINVAL);
	}
	t->npin = v->npin;
	for (i = 0; i < v->nsan; i++) {
		if (v->san[i] == NULL ||
		    (t->san[i] = strdup(v->san[i])) == NULL)
			return (HYP_ENOMEM);
		t->nsan++;
	}
	if (v->ca_file != NULL) {
		rv = gnutls_certificate_set_x509_trust_file(t->cred, v->ca_file,
		    GNUTLS_X509_FMT_PEM);
		if (rv <= 0)
			return (tls_err(ep, v->ca_file, rv == 0 ?
			    GNUTLS_E_FILE_ERROR : rv));
		t->use_ca = 1;
	} else if (t->npin == 0 && t->nsan == 0) {
		/* Nothing pinned and no CA: the system trust store. */
		rv = gnutls_certificate_set_x509_system_trust(t->cred);
		if (rv <= 0)
			return (tls_err(ep, "system trust", rv == 0 ?
			    GNUTLS_E_FILE_ERROR : rv));
		t->use_ca = 1;
	}
	host = v->hostname != NULL ? v->hostname : sni;
	if (t->use_ca && host != NULL && (t->hostname = strdup(host)) == NULL)
		return (HYP_ENOMEM);
	return (0);
}

/* Free credentials and copies. */
void
hq_tls_free(struct hq_tls *t)
{
	size_t	i;

	if (t->cred != NULL)
		gnutls_certificate_free_credentials(t->cred);
	if (t->prio != NULL)
		gnutls_priority_deinit(t->prio);
	free(t->hostname);
	for (i = 0; i < t->nsan; i++)
		free(t->san[i]);
	memset(t, 0, sizeof(*t));
}

/* Connection of a GnuTLS session. */
static struct hq_conn *
session_conn(gnutls_session_t s)
{
	ngtcp2_crypto_conn_ref	*ref = gnutls_session_get_ptr(s);

	return (ref->user_data);
}

/* gnutls_ext_raw_parse callback: collect the offered ALPN identifiers. */
static int
alpn_ext_cb(void *ctx, unsigned tls_id, const unsigned char *data,
    unsigned size)
{
	struct alpn_offer	*o = ctx;
	unsigned		 total, p, l;

	if (tls_id != HQ_TLS_EXT_ALPN || size < 2)
		return (0);
	total = ((unsigned)data[0] << 8) | data[1];
	if (total + 2 > size)
		return (0);
	for (p = 2; p < total + 2 && o->n < HQ_ALPN_OFFER_MAX; p += l) {
		l = data[p++];
		if (l == 0 || p + l > total + 2)
			break;
		if (l > HQ_ALPN_MAX)
			continue;
		memcpy(o->name[o->n], data + p, l);
		o->name[o->n][l] = '\0';
		o->ptr[o->n] = o->name[o->n];
		o->n++;
	}
	return (0);
}

/* Default ALPN choice: the first server entry the client offered. */
static int
alpn_default_select(const struct hq_tls *t, const struct alpn_offer *o)
{
	size_t	i, j;

	for (i = 0; i < t->nalpn; i++) {
		for (j = 0; j < o->n; j++) {
			if (strcmp(t->alpnbuf[i], o->ptr[j]) == 0)
				return ((int)j);
		}
	}
	return (-1);
}

/* ClientHello hook (before processing): choose the ALPN for this client. */
static int
server_hello_hook(gnutls_session_t s, unsigned htype, unsigned when,
    unsigned incoming, const gnutls_datum_t *msg)
{
	struct hq_conn		*c = session_conn(s);
	struct hq_tls		*t = &c->ep->tls;
	struct alpn_offer	 o;
	gnutls_datum_t		 d;
	int			 idx;

	if (htype != GNUTLS_HANDSHAKE_CLIENT_HELLO || when != GNUTLS_HOOK_PRE ||
	    !incoming)
		return (0);
	o.n = 0;
	if (gnutls_ext_raw_parse(&o, alpn_ext_cb, msg,
	    GNUTLS_EXT_RAW_FLAG_TLS_CLIENT_HELLO) < 0)
		return (GNUTLS_E_NO_APPLICATION_PROTOCOL);
	if (t->alpn_select != NULL)
		idx = t->alpn_select(t->alpn_arg, o.ptr, o.n);
	else
		idx = alpn_default_select(t, &o);
	if (idx < 0 || (size_t)idx >= o.n) {
		hq_logf(c->ep, HQ_LOG_INFO, "no acceptable ALPN among %zu "
		    "offered", o.n);
		return (GNUTLS_E_NO_APPLICATION_PROTOCOL);
	}
	d.data = (unsigned char *)o.name[idx];
	d.size = (unsigned)strlen(o.name[idx]);
	if (gnutls_alpn_set_protocols(s, &d, 1, GNUTLS_ALPN_MANDATORY) < 0)
		return (GNUTLS_E_NO_APPLICATION_PROTOCOL);
	return (0);
}

/* Create the server-side TLS session of c. */
int
hq_tls_session_server(struct hq_conn *c)
{
	struct hq_tls	*t = &c->ep->tls;
	int		 rv;

	if ((rv = gnutls_init(&c->tls, GNUTLS_SERVER |
	    GNUTLS_NO_AUTO_SEND_TICKET | GNUTLS_NO_END_OF_EARLY_DATA)) < 0)
		return (tls_err(c->ep, "gnutls_init", rv));
	if ((rv = gnutls_priority_set(c->tls, t->prio)) < 0)
		return (tls_err(c->ep, "priority", rv));
	if (ngtcp2_crypto_gnutls_configure_server_session(c->tls) != 0)
		return (HYP_EINVAL);
	gnutls_session_set_ptr(c->tls, &c->ref);
	if ((rv = gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE,
	    t->cred)) < 0)
		return (tls_err(c->ep, "credentials", rv));
	/*
	 * No ALPN list here: gnutls_alpn_set_protocols() appends, so the
	 * ClientHello hook sets exactly the one protocol it chose.
	 */
	gnutls_handshake_set_hook_function(c->tls,
	    GNUTLS_HANDSHAKE_CLIENT_HELLO, GNUTLS_HOOK_PRE, server_hello_hook);
	if (t->ccert == HQ_CCERT_REQUEST)
		gnutls_certificate_server_set_request(c->tls,
		    GNUTLS_CERT_REQUEST);
	else if (t->ccert == HQ_CCERT_REQUIRE)
		gnutls_certificate_server_set_request(c->tls,
		    GNUTLS_CERT_REQUIRE);
	return (0);
}

/* Client-side check of the server certificate (pins, SANs, CA chain). */
static int
client_verify_cb(gnutls_session_t s)
{
	struct hq_conn		*c = session_conn(s);
	struct hq_tls		*t = &c->ep->tls;
	const gnutls_datum_t	*certs;
	gnutls_x509_crt_t	 crt;
	unsigned		 n = 0, status = 0;
	char			 fp[HQ_FP_LEN + 1];
	size_t			 i;
	int			 ok;

	if (t->insecure)
		return (0);
	certs = gnutls_certificate_get_peers(s, &n);
	if (certs == NULL || n == 0) {
		hq_logf(c->ep, HQ_LOG_WARN, "server sent no certificate");
		return (-1);
	}
	if (t->use_ca) {
		if (gnutls_certificate_verify_peers3(s, t->hostname,
		    &status) < 0 || status != 0) {
			gnutls_datum_t	out;

			if (gnutls_certificate_verification_status_print(status,
			    GNUTLS_CRT_X509, &out, 0) >= 0) {
				hq_logf(c->ep, HQ_LOG_WARN, "server certificate: "
				    "%s", out.data);
				gnutls_free(out.data);
			}
			return (-1);
		}
	}
	if (t->npin > 0) {
		fp_der(&certs[0], fp);
		for (ok = 0, i = 0; i < t->npin && !ok; i++)
			ok = strcmp(fp, t->pin[i]) == 0;
		if (!ok) {
			hq_logf(c->ep, HQ_LOG_WARN, "server certificate %s "
			    "matches no pin", fp);
			return (-1);
		}
	}
	if (t->nsan > 0) {
		if (gnutls_x509_crt_init(&crt) < 0)
			return (-1);
		ok = 0;
		if (gnutls_x509_crt_import(crt, &certs[0],
		    GNUTLS_X509_FMT_DER) >= 0) {
			for (i = 0; i < t->nsan && !ok; i++)
				ok = gnutls_x509_crt_check_hostname2(crt,
				    t->san[i], 0) != 0;
		}
		gnutls_x509_crt_deinit(crt);
		if (!ok) {
			hq_logf(c->ep, HQ_LOG_WARN, "server certificate "
			    "matches no allowed name");
			return (-1);
		}
	}
	return (0);
}

/* Create the client-side TLS session of c. */
int
hq_tls_session_client(struct hq_conn *c, const char *sni)
{
	struct hq_tls	*t = &c->ep->tls;
	unsigned	 flags = GNUTLS_CLIENT | GNUTLS_NO_END_OF_EARLY_DATA;
	int		 rv;

	/* GnuTLS withholds a cert the server's CA list does not name. */
	if (t->have_cert)
		flags |= GNUTLS_FORCE_CLIENT_CERT;
	if ((rv = gnutls_init(&c->tls, flags)) < 0)
		return (tls_err(c->ep, "gnutls_init", rv));
	if ((rv = gnutls_priority_set(c->tls, t->prio)) < 0)
		return (tls_err(c->ep, "priority", rv));
	if (ngtcp2_crypto_gnutls_configure_client_session(c->tls) != 0)
		return (HYP_EINVAL);
	gnutls_session_set_ptr(c->tls, &c->ref);
	if ((rv = gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE,
	    t->cred)) < 0)
		return (tls_err(c->ep, "credentials", rv));
	if ((rv = gnutls_alpn_set_protocols(c->tls, t->alpn,
	    (unsigned)t->nalpn, GNUTLS_ALPN_MANDATORY)) < 0)
		return (tls_err(c->ep, "alpn", rv));
	if (sni != NULL && (rv = gnutls_server_name_set(c->tls,
	    GNUTLS_NAME_DNS, sni, strlen(sni))) < 0)
		return (tls_err(c->ep, "sni", rv));
	/* Without a verify function GnuTLS checks nothing (QUIC-NOTES 4). */
	if (!t->insecure)
		gnutls_session_set_verify_function(c->tls, client_verify_cb);
	return (0);
}

/*
 * Record ALPN, SNI and the peer certificate fingerprint after the handshake
 * (their memory is allocated only now); HYP_ENOMEM without it.
 */
int
hq_tls_peer_info(struct hq_conn *c)
{
	struct hq_peerinfo	*pi;
	const gnutls_datum_t	*certs;
	gnutls_datum_t		 alpn;
	unsigned		 n = 0, type;
	size_t			 len;

	if ((pi = hq_conn_peerinfo(c)) == NULL)
		return (HYP_ENOMEM);
	if (gnutls_alpn_get_selected_protocol(c->tls, &alpn) == 0 &&
	    alpn.size <= HQ_ALPN_MAX) {
		memcpy(pi->alpn, alpn.data, alpn.size);
		pi->alpn[alpn.size] = '\0';
	}
	if (c->ep->server) {
		len = sizeof(pi->sni);
		if (gnutls_server_name_get(c->tls, pi->sni, &len, &type,
		    0) != 0 || type != GNUTLS_NAME_DNS)
			pi->sni[0] = '\0';
	}
	certs = gnutls_certificate_get_peers(c->tls, &n);
	if (certs != NULL && n > 0) {
		fp_der(&certs[0], pi->fp);
		pi->have_fp = 1;
	}
	return (0);
}
