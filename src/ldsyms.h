/* Absolute symbols that x86-64's linker script defines from other symbols.
 *
 * kallsyms drops type-A symbols, so a profile made from kallsyms lacks what
 * System.map has of them.  Each one added here is computed by its defining
 * rule in the kernel's sources, only where that rule applies to the kernel at
 * hand; README "What is in the profile" lists those that cannot be derived.
 * Link-time (un-slid) addresses in, link-time values out. */
#ifndef B2I_LDSYMS_H
#define B2I_LDSYMS_H

#include "symbols.h"
#include "symdb.h"	/* struct kver */

#define LDSYMS_MAX 8

/* The derivable absolute symbols of the kernel whose (finished, link-time)
 * symbol table is s, into out[]; names are static.  Returns the count. */
size_t ldsyms_derive(const struct symbols *s, const struct kver *v, struct symbol_def out[LDSYMS_MAX]);

#endif
