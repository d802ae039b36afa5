const SECTIONS: Record<string, { list: string; item: string }> = {
  campaigns: { list: 'Go to the campaigns', item: 'Back to the campaign' },
  lists: { list: 'Go to the lists', item: 'Back to the list' },
};

/**
 * The page a path belongs to, for a refusal to link back to: an action on a campaign or a list
 * leads to that campaign or list, a page inside Admin or the account to that page.
 */
export function pageAbove(path: string): { href: string; label: string } | undefined {
  const [section, id, action] = path.split('/').filter(Boolean);
  if (section === 'admin') return { href: '/admin', label: 'Back to Admin' };
  if (section === 'account') return { href: '/account', label: 'Back to your account' };
  const labels = section && Object.hasOwn(SECTIONS, section) ? SECTIONS[section] : undefined;
  if (!labels || !id) return undefined;
  // The segment comes from the request's path as sent, still percent-encoded.
  if (action) return { href: `/${section}/${id}`, label: labels.item };
  return { href: section === 'campaigns' ? '/' : `/${section}`, label: labels.list };
}
