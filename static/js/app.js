// Progressive enhancement with NHS.UK frontend's own scripts: the header's "More" menu on narrow
// screens, the error summary's focus, the skip link. Every page works without it.
import { initAll } from '/static/nhsuk/nhsuk-frontend.min.js';

document.body.classList.add('js-enabled', 'nhsuk-frontend-supported');
initAll();
