import picomatch from 'picomatch';

export interface ToolFilterRules {
  allow?: string[];
  deny?: string[];
}

/** A predicate over tool names from allow/deny globs: allowed when it matches an allow (or none is given) and no deny. */
export function createToolFilter(rules: ToolFilterRules | undefined): (name: string) => boolean {
  const allow = rules?.allow?.length ? picomatch(rules.allow) : undefined;
  const deny = rules?.deny?.length ? picomatch(rules.deny) : undefined;
  if (!allow && !deny) return () => true;
  return function isToolAllowed(name: string) {
    return (allow === undefined || allow(name)) && (deny === undefined || !deny(name));
  };
}
