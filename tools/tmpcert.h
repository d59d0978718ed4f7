/*
 * A client certificate generated once and kept in a private temporary
 * directory, so that every connection of a tool presents the same one.
 */
#ifndef HYPROX_TOOLS_TMPCERT_H
#define HYPROX_TOOLS_TMPCERT_H

/* Paths of the certificate and key; dir is "" when nothing was created. */
struct tool_tmpcert {
	char	dir[64];
	char	cert[96];
	char	key[96];
};

/* Generate an ECDSA certificate with CN cn under $TMPDIR/prefix.XXXXXX; 0 or -1. */
int	tool_tmpcert_make(struct tool_tmpcert *tc, const char *cn,
	    const char *prefix);

/* Remove the files and the directory; safe after a failed make. */
void	tool_tmpcert_remove(struct tool_tmpcert *tc);

#endif /* HYPROX_TOOLS_TMPCERT_H */
