/* Test plugin "nosym": a shared object without the hyp_plugin symbol. */
#include <hyprox/hyprox.h>

int	nosym_answer(void);

/* Something exported that is not a descriptor. */
HYP_EXPORT int
nosym_answer(void)
{
	return (42);
}
