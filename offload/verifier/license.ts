/**
 * The licences the kernel counts as GPL-compatible (license_is_gpl_compatible in
 * include/linux/license.h): only these may call GPL-only helpers and kfuncs.
 */
const GPL_COMPATIBLE = /^(GPL|GPL v2|GPL and additional rights|Dual BSD\/GPL|Dual MIT\/GPL|Dual MPL\/GPL)$/;

export const isGplCompatible = (license: string | undefined): boolean => license !== undefined && GPL_COMPATIBLE.test(license);
