/**
 * Version of the normalizer and of the verdicts it stores (splitting, cleaning, IDNA, validation,
 * typo table). Bump it whenever one of those changes: the next `audience normalize` then re-splits
 * every carrier's field and re-judges every stored address, instead of only the changed carriers.
 */
export const NORMALIZER_VERSION = 2;
// 2: a local part starting with = + - is invalid_syntax (a spreadsheet formula; issue #18).
