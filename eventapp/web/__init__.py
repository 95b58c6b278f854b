"""What the blueprints share, so that no blueprint imports another.

- `access`: who may see a page or call an endpoint (`role_required`, `safe_next_url`);
- `loading`: the one "event or 404" a view starts from (`event_or_404`);
- `form_errors`: domain errors (InvalidInput's fields, any other message) put on a WTForms form;
- `consent`: the privacy notice and the consent record, the same for the form and the API;
- `fields`: the session-choice fields of the registration form and the private page.

Web code only: these modules read the request and fill forms; the rules stay in services/.
"""
