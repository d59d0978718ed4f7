/*
 * Temporary client certificates for hyproxctl probe and hyprox-bench.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "quic.h"
#include "tmpcert.h"

/* Write a file readable only by us. */
static int
write_private(const char *path, const char *data)
{
	FILE	*fp;
	int	 fd, ok;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1)
		return (-1);
	if ((fp = fdopen(fd, "w")) == NULL) {
		close(fd);
		return (-1);
	}
	ok = fputs(data, fp) >= 0;
	return (fclose(fp) == 0 && ok ? 0 : -1);
}

/* Generate one client certificate into a private temporary directory. */
int
tool_tmpcert_make(struct tool_tmpcert *tc, const char *cn, const char *prefix)
{
	struct hq_certgen	 g;
	const char		*tmp = getenv("TMPDIR");
	char			*cert = NULL, *key = NULL;
	int			 rv = -1;

	memset(&g, 0, sizeof(g));
	g.cn = cn;
	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 32)
		tmp = "/tmp";
	snprintf(tc->dir, sizeof(tc->dir), "%s/%s.XXXXXX", tmp, prefix);
	if (mkdtemp(tc->dir) == NULL) {
		tc->dir[0] = '\0';
		return (-1);
	}
	snprintf(tc->cert, sizeof(tc->cert), "%s/cert.pem", tc->dir);
	snprintf(tc->key, sizeof(tc->key), "%s/key.pem", tc->dir);
	if (hq_cert_generate(&g, &cert, &key) == 0 &&
	    write_private(tc->cert, cert) == 0 &&
	    write_private(tc->key, key) == 0)
		rv = 0;
	free(cert);
	free(key);
	return (rv);
}

/* Remove the temporary certificate. */
void
tool_tmpcert_remove(struct tool_tmpcert *tc)
{
	if (tc->dir[0] == '\0')
		return;
	(void)unlink(tc->cert);
	(void)unlink(tc->key);
	(void)rmdir(tc->dir);
}
