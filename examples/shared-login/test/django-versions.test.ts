import { djangoVersions } from '@sessionbridge/test-services/django-versions'
import { describe, it } from 'vitest'
import { sharedLoginSuite } from './contract-suite.ts'

// The whole contract with Django 4.2 and 5.2 beside the Node apps (DJANGO_VERSION); 3.2, the
// system's Django, is the default of every other suite. In CI each version must be installed.
for (const django of await djangoVersions()) {
  if (django.line === '3.2') continue
  if (!django.available) {
    describe.skip(`sql on SQLite with Django ${django.line}`, () => it('is not installed', () => {}))
    continue
  }
  sharedLoginSuite(
    `sql on SQLite with Django ${django.line}`,
    async () => ({ SESSION_BACKEND: 'sql', DJANGO_VERSION: django.line }),
    true,
  )
}
