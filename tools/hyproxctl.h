/*
 * hyproxctl: subcommand entry points and the probe helpers that unit tests
 * call (argument parsing, Connect building, reply decoding, output).
 */
#ifndef HYPROXCTL_H
#define HYPROXCTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <hyprox/codec.h>

/* Exit statuses shared by every subcommand. */
#define CTL_EXIT_OK		0
#define CTL_EXIT_ERROR		1
#define CTL_EXIT_USAGE		2

/* Exit statuses of probe, one per outcome. */
#define PROBE_EXIT_ACCEPT	0
#define PROBE_EXIT_REFERRAL	10
#define PROBE_EXIT_DISCONNECT	11
#define PROBE_EXIT_CLOSED	12
#define PROBE_EXIT_OTHER	13
#define PROBE_EXIT_HANDSHAKE	20
#define PROBE_EXIT_TIMEOUT	21

/* Limits. */
#define PROBE_DEFAULT_PORT	5520
#define PROBE_MAX_ALPN		8		/* == HQ_MAX_ALPN */
#define PROBE_MAX_PINS		8		/* == HQ_MAX_PINS */
#define PROBE_MAX_SANS		8		/* == HQ_MAX_SANS */
#define PROBE_MAX_REPLY		(16u << 20)	/* first packet payload */
#define PROBE_MAX_RAW		(1u << 20)	/* --raw-first bytes */
#define PROBE_FP_LEN		43		/* base64url SHA-256 */
#define PROBE_REASON_MAX	1000		/* QUIC close reason kept */
#define PROBE_TARGET_MAX	(HYP_HOST_MAX + 8)	/* "[host]:65535" */

/** One subcommand of hyproxctl. */
struct ctl_cmd {
	const char	*name;
	const char	*args;		/* synopsis after the name */
	const char	*summary;
	int		(*main)(int argc, char **argv);
};

/* probe.c */
int	probe_main(int argc, char **argv);

/* ticket.c */
int	ticket_main(int argc, char **argv);

/* registry.c */
int	registry_main(int argc, char **argv);

/* Outcome of one probe hop. */
enum probe_result {
	PROBE_R_ACCEPT = 0,
	PROBE_R_REFERRAL,
	PROBE_R_DISCONNECT,
	PROBE_R_OTHER,
	PROBE_R_CLOSED,
	PROBE_R_TIMEOUT,
	PROBE_R_HANDSHAKE_FAILED,
	PROBE_R_ERROR		/* local failure: resolution, setup */
};

/* Everything the probe command line asked for. */
struct probe_opts {
	char			 host[HYP_HOST_MAX + 1];
	uint16_t		 port;
	const char		*sni;		/* --sni, or NULL */
	int			 no_sni;
	char			 alpnbuf[256 * 2];
	const char		*alpn[PROBE_MAX_ALPN];
	size_t			 nalpn;
	const char		*cert_file;
	const char		*key_file;
	const char		*ca_file;
	const char		*pin[PROBE_MAX_PINS];
	size_t			 npin;
	const char		*san[PROBE_MAX_SANS];
	size_t			 nsan;
	enum hyp_connect_layout	 layout;
	const char		*user;
	int			 have_uuid;
	uint8_t			 uuid[16];
	const char		*language;
	int32_t			 crc;
	int32_t			 build;
	const char		*client_version;
	const char		*protocol_hash;
	int			 editor;
	uint8_t			*referral_data;	/* heap; NULL if absent */
	size_t			 referral_len;
	int			 has_referral_data;
	char			 rsrc_host[HYP_HOST_MAX + 1];
	uint16_t		 rsrc_port;
	int			 has_rsrc;
	const char		*identity_token;
	uint8_t			*raw;		/* heap; --raw-first */
	size_t			 rawlen;
	int			 has_raw;
	size_t			 split;
	int			 no_connect;
	int			 follow;
	int			 max_follow;
	int			 json;
	int			 verbose;
	uint64_t		 timeout_ms;
};

/* Where one hop connects and what its Connect carries besides opts. */
struct probe_target {
	char			 host[HYP_HOST_MAX + 1];
	uint16_t		 port;
	char			 sni[HYP_HOST_MAX + 1];	/* "" = no SNI */
	const uint8_t		*rdata;
	size_t			 rdatalen;
	int			 has_rdata;
	char			 rsrc_host[HYP_HOST_MAX + 1];
	uint16_t		 rsrc_port;
	int			 has_rsrc;
};

/* QUIC close as the probe saw it. */
struct probe_close {
	int			 by_peer;	/* 1 peer, 0 local */
	const char		*how;		/* peer, local, idle, ... */
	int			 app;
	uint64_t		 code;
	uint8_t			 tls_alert;
	char			 reason[PROBE_REASON_MAX + 1];
	size_t			 reasonlen;
};

/* What one hop found. */
struct probe_hop {
	int			 hop;
	char			 target[PROBE_TARGET_MAX];
	char			 addr[64];	/* resolved numeric address */
	char			 sni[HYP_HOST_MAX + 1];
	int			 handshake_done;
	uint64_t		 handshake_ns;
	char			 alpn[256];
	char			 server_fp[PROBE_FP_LEN + 1];
	enum probe_result	 result;
	int			 have_packet;
	uint32_t		 pkt_id;
	uint32_t		 pkt_len;	/* declared payload length */
	uint8_t			*pkt;		/* payload (heap) or NULL */
	size_t			 pktread;	/* payload bytes held */
	struct hyp_client_referral ref;	/* views into pkt */
	struct hyp_disconnect	 disc;
	struct hyp_connect_accept acc;
	int			 stream_reset;
	uint64_t		 stream_reset_code;
	int			 have_close;
	struct probe_close	 close;
	char			 error[600];	/* why, for error/other/failed */
};

/* probe_util.c */
int	probe_parse_args(int argc, char **argv, struct probe_opts *o,
	    char *err, size_t errlen);
void	probe_opts_free(struct probe_opts *o);
int	probe_parse_hostport(const char *s, uint16_t defport, char *host,
	    size_t cap, uint16_t *port);
void	probe_format_hostport(const char *host, uint16_t port, char *out,
	    size_t cap);
int	probe_is_numeric_host(const char *host);
ssize_t	probe_parse_hex(const char *s, uint8_t *out, size_t cap);
int	probe_load_bytes(const char *arg, size_t max, uint8_t **out,
	    size_t *len, char *err, size_t errlen);
int	probe_parse_duration(const char *s, uint64_t *ms);
int	probe_parse_alpn(const char *list, struct probe_opts *o);
void	probe_first_target(const struct probe_opts *o, struct probe_target *t);
int	probe_next_target(const struct probe_opts *o,
	    const struct probe_hop *h, const struct probe_target *prev,
	    struct probe_target *t);
int	probe_build_connect(const struct probe_opts *o,
	    const struct probe_target *t, uint8_t *out, size_t cap);
void	probe_classify(struct probe_hop *h);
void	probe_hop_reset(struct probe_hop *h);
int	probe_exit_code(enum probe_result r);
const char *probe_result_name(enum probe_result r);
const char *probe_app_code_name(uint64_t code);
const char *probe_transport_code_name(uint64_t code);
size_t	probe_json_escape(char *out, size_t cap, const void *s, size_t len);
void	probe_print_text(FILE *fp, const struct probe_hop *h);
void	probe_print_json(FILE *fp, const struct probe_hop *h);

#endif /* HYPROXCTL_H */
