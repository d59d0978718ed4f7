/*
 * hyproxctl: command-line companion of hyproxd.  One table of subcommands;
 * each takes its own argv (argv[0] is the subcommand name).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "hyproxctl.h"

/* Subcommands; add "status" here when it exists. */
static const struct ctl_cmd ctl_cmds[] = {
	{ "probe", "[options] HOST[:PORT]",
	    "connect as a Hytale client and report the answer", probe_main },
	{ "ticket", "sign|verify|inspect [options]",
	    "sign, verify or decode a referral ticket", ticket_main },
	{ "registry", "register|heartbeat|drain|remove|list [options]",
	    "signed requests to the registry-http API", registry_main },
};

#define CTL_NCMDS	(sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))

/* Print the top-level usage to fp. */
static void
ctl_usage(FILE *fp)
{
	size_t	i;

	fprintf(fp, "usage: hyproxctl [-hV] COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < CTL_NCMDS; i++)
		fprintf(fp, "  %-6s %s\n         %s\n", ctl_cmds[i].name,
		    ctl_cmds[i].args, ctl_cmds[i].summary);
	fprintf(fp, "\n\"hyproxctl COMMAND -h\" describes the options of "
	    "COMMAND; see hyproxctl(1).\n");
}

/* Find a subcommand by name or unique prefix. */
static const struct ctl_cmd *
ctl_find(const char *name)
{
	const struct ctl_cmd	*found = NULL;
	size_t			 i, len = strlen(name);

	for (i = 0; i < CTL_NCMDS; i++) {
		if (strcmp(ctl_cmds[i].name, name) == 0)
			return (&ctl_cmds[i]);
		if (len > 0 && strncmp(ctl_cmds[i].name, name, len) == 0) {
			if (found != NULL)
				return (NULL);	/* ambiguous */
			found = &ctl_cmds[i];
		}
	}
	return (found);
}

/* Dispatch to the subcommand named by argv[1]. */
int
main(int argc, char **argv)
{
	const struct ctl_cmd	*cmd;

	if (argc < 2) {
		ctl_usage(stderr);
		return (CTL_EXIT_USAGE);
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		ctl_usage(stdout);
		return (CTL_EXIT_OK);
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("hyproxctl %s\n", PACKAGE_VERSION);
		return (CTL_EXIT_OK);
	}
	if ((cmd = ctl_find(argv[1])) == NULL) {
		fprintf(stderr, "hyproxctl: unknown command: %s\n", argv[1]);
		ctl_usage(stderr);
		return (CTL_EXIT_USAGE);
	}
	return (cmd->main(argc - 1, argv + 1));
}
