from eventapp.extensions import db
from eventapp.services.backoffice.demo import DEMO_SLUG, load_demo_event


def test_demo_programme_and_registration_pages_render(client):
    load_demo_event()
    db.session.commit()
    page = client.get(f"/events/{DEMO_SLUG}/")
    assert page.status_code == 200
    assert "Plenaire opening" in page.get_data(as_text=True)
    form = client.get(f"/events/{DEMO_SLUG}/register")
    assert form.status_code == 200
    assert 'name="consent"' in form.get_data(as_text=True)
