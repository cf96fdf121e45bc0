import type { CsrfExtensionOptions } from '@sessionbridge/core'

/**
 * The CSRF options every Node app of the example uses: Django's defaults (cookie `csrftoken`,
 * header `X-CSRFToken`, field `csrfmiddlewaretoken`) and the token format of the Django beside them
 * (3.2 writes a masked cookie; every version accepts both forms), so one token serves all four apps.
 */
export const EXAMPLE_CSRF: CsrfExtensionOptions = Object.freeze({ djangoVersion: '3.2' })
