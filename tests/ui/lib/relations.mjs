// The link relations a version of @fnndsc/chrisapi navigates by, read from its own source in node_modules,
// so the contract follows the client rather than a hand-kept list.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const UI_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * For every resource class of the client: whether it reads links off an item ('item') or off the
 * collection document ('list'), and the relations it follows. The root document (the feed list) also
 * gets every relation Client.getFeeds() collects with getUrl(coll, '<rel>').
 * @returns {Map<string, {kind: 'item'|'list', rels: Set<string>}>}
 */
export function clientRelations(pkg) {
  const src = join(UI_DIR, 'node_modules', pkg, 'src');
  const classes = new Map();
  for (const file of readdirSync(src)) {
    if (!file.endsWith('.js') || file.endsWith('.test.js')) continue;
    const text = readFileSync(join(src, file), 'utf8');
    if (file === 'client.js') {
      const root = ensure(classes, 'FeedList', 'list');
      for (const m of text.matchAll(/getUrl\(coll,\s*'([a-z_]+)'\)/g)) root.rels.add(m[1]);
      continue;
    }
    const heads = [...text.matchAll(/export (?:default )?class (\w+) extends (\w+)/g)];
    heads.forEach((head, i) => {
      const body = text.slice(head.index, i + 1 < heads.length ? heads[i + 1].index : text.length);
      const kind = head[2] === 'ListResource' ? 'list' : 'item';
      const entry = ensure(classes, head[1], kind);
      for (const m of body.matchAll(/linkRelation = '([a-z_]+)'/g)) entry.rels.add(m[1]);
      for (const m of body.matchAll(/getLinkRelationUrls\(\s*item,\s*'([a-z_]+)'\)/g)) entry.rels.add(m[1]);
    });
  }
  return classes;
}

function ensure(classes, name, kind) {
  if (!classes.has(name)) classes.set(name, { kind, rels: new Set() });
  return classes.get(name);
}
