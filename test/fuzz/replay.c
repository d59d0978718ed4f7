/*
 * Corpus replay driver: runs a fuzz target's LLVMFuzzerTestOneInput over
 * every file of its seed corpus, so `make check` keeps the targets building
 * and the corpus passing without clang or libFuzzer.  The program name
 * replay_<x> picks $top_srcdir/test/fuzz/corpus/fuzz_<x>/.
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Feed one file to the target; 0 or -1 when unreadable. */
static int
replay_file(const char *path)
{
	uint8_t	*buf;
	FILE	*fp;
	long	 n;

	if ((fp = fopen(path, "rb")) == NULL)
		return (-1);
	if (fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0) {
		fclose(fp);
		return (-1);
	}
	/* Exactly n bytes on the heap so ASan sees any overread. */
	if ((buf = malloc(n > 0 ? (size_t)n : 1)) == NULL ||
	    fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		fclose(fp);
		return (-1);
	}
	fclose(fp);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return (0);
}

int
main(int argc, char **argv)
{
	const char	*top = getenv("top_srcdir"), *base;
	char		 dir[4096], path[8192];
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	base = strrchr(argv[0], '/') != NULL ? strrchr(argv[0], '/') + 1 :
	    argv[0];
	if (strncmp(base, "lt-", 3) == 0)
		base += 3;
	if (strncmp(base, "replay_", 7) != 0)
		return (2);
	snprintf(dir, sizeof dir, "%s/test/fuzz/corpus/fuzz_%s",
	    top != NULL ? top : ".", base + 7);
	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "%s: cannot open %s\n", base, dir);
		return (1);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (replay_file(path) != 0) {
			fprintf(stderr, "%s: cannot read %s\n", base, path);
			closedir(d);
			return (1);
		}
		n++;
	}
	closedir(d);
	printf("%s: %d corpus inputs replayed\n", base, n);
	return (n > 0 ? 0 : 1);
}
