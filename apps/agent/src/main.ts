// The heap settings first. ESM loads a module's whole static import graph before it runs any of
// it, so everything else is imported afterwards: the settings then apply while it loads too.
import './heap.js';

import('./cli/commands.js').catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
