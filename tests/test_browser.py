"""The app in a real browser: each tab's first example runs with a progress bar, shows an image and
its code; a lesson link opens the page with its settings filled in.

Chromium is Debian's (/usr/bin/chromium, or GENART_CHROMIUM); `playwright install` is not needed.
Screenshots go to pytest's tmp_path, or to GENART_SCREENSHOTS_DIR when it is set: the README's come
from here (GENART_SCREENSHOTS_DIR=docs/screenshots python -m pytest tests/test_browser.py).
"""

import os
import re
import time
from pathlib import Path

import pytest

from genart_playground import families

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")
expect = sync_api.expect

CHROMIUM = os.environ.get("GENART_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
REPO = Path(__file__).resolve().parents[1]
TIMEOUT_MS = 120_000  # the CPU is slow and shared: generous waits, no sleeps

# tab id, tab label, the button that runs its first example: every family with a tab and an example call
TABS = [(family.id, family.title, family.example.button) for family in families.FAMILIES
        if family.tab and family.example is not None and family.example.button]

# Gradio's status tracker over an output while its event runs: the progress bar, its text and eta.
PROGRESS = ".progress-text, .progress-level, .progress-bar, .eta-bar"

# Records whether a progress indicator appeared at any moment, however briefly (a fast run may end
# between two polls).
WATCH_PROGRESS = """(selector) => {
  window.sawProgress = false;
  const look = () => { if (document.querySelector(selector)) window.sawProgress = true; };
  window.progressWatcher?.disconnect();
  window.progressWatcher = new MutationObserver(look);
  window.progressWatcher.observe(document.body, {subtree: true, childList: true, attributes: true});
}"""

# An image the app wrote (tempfile names start with "tmp"), not an example or an input: an output.
OUTPUT_SHOWN = """(panel) => [...panel.querySelectorAll("img")].some(
  (img) => /\\/file=.*\\/tmp[^/]*\\.(png|gif|webp)$/.test(img.getAttribute("src") || "") && img.naturalWidth > 0)"""


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set GENART_CHROMIUM)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, served_app):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture
def app_url(served_app) -> str:
    return served_app.local_url.rstrip("/") + "/"


def screenshot_path(tmp_path, name: str) -> Path:
    folder = os.environ.get("GENART_SCREENSHOTS_DIR")
    folder = (REPO / folder if not Path(folder).is_absolute() else Path(folder)) if folder else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"


def lesson_link(page):
    return page.locator("#lesson-link").locator("textarea, input").first


def visible_panel(page):
    return page.locator("[role=tabpanel]:visible")


@pytest.mark.parametrize("tab_id, tab_label, button", TABS, ids=[tab[0] for tab in TABS])
def test_first_example_runs_in_the_browser(page, app_url, tmp_path, tab_id, tab_label, button):
    page.goto(app_url)
    expect(lesson_link(page)).to_have_value(app_url)  # the page has loaded (and read its plain URL)
    page.get_by_role("tab", name=tab_label, exact=True).click()
    expect(page.get_by_role("tab", name=tab_label, exact=True)).to_have_attribute("aria-selected", "true")
    if tab_id != TABS[0][0]:  # the first tab is open already: clicking it changes nothing
        expect(page).to_have_url(f"{app_url}?tab={tab_id}")  # the lesson link follows the tab
    panel = visible_panel(page)

    # The first row of the tab's first examples (a table row, or a gallery of example images).
    panel.locator('[data-testid="dataset-cell-0-0"], button.gallery-item').first.click()
    page.evaluate(WATCH_PROGRESS, PROGRESS)
    panel.get_by_role("button", name=button, exact=True).click()

    page.wait_for_function(OUTPUT_SHOWN, arg=panel.element_handle(), timeout=TIMEOUT_MS)
    assert page.evaluate("window.sawProgress"), "no progress bar or progress text showed while it ran"
    expect(panel.locator(PROGRESS)).to_have_count(0)  # and it went away when done

    panel.get_by_text("Show code", exact=True).first.click()
    code = panel.locator(".cm-content").first
    expect(code).to_contain_text("genart_playground")
    page.screenshot(path=str(screenshot_path(tmp_path, tab_id)), full_page=True)


def link_notice(page):
    return page.locator("#lesson-link-notice textarea")


def test_a_link_with_html_in_its_keys_shows_no_link_image_or_form(page, app_url):
    """Issue 13 §6: unknown keys are shown as text, not HTML: no link, image or form the app did not put there."""
    from urllib.parse import quote

    evil = ('<a href="https://evil.example/login" style="font-size:40px">Session expired</a>'
            '<img src="https://evil.example/pixel.png"><form action="https://evil.example/">'
            '<input name=pw placeholder=password></form>')
    page.goto(f"{app_url}?{quote(evil)}=1")
    expect(link_notice(page)).to_have_value(re.compile("not applied: <a href="))  # shown, as text
    assert page.locator('a[href*="evil.example"], img[src*="evil.example"], form[action*="evil.example"], '
                        'input[name="pw"]').count() == 0


def test_lesson_link_opens_its_tab_with_its_settings(page, app_url):
    page.goto(f"{app_url}?tab=gan_interpolation&seed_a=5&frames=9000&colour=red")
    expect(page.get_by_role("tab", name="GAN interpolation", exact=True)).to_have_attribute("aria-selected", "true")
    panel = visible_panel(page)
    expect(panel.get_by_label("Seed A", exact=True)).to_have_value("5")
    # The bad and unknown values are named in one notice and dropped from the address bar.
    expect(link_notice(page)).to_have_value(re.compile("not applied: .*frames=9000.*colour=red"))
    expect(page).to_have_url(f"{app_url}?tab=gan_interpolation&seed_a=5")
    expect(lesson_link(page)).to_have_value(f"{app_url}?tab=gan_interpolation&seed_a=5")

    # Changing a setting changes the link.
    seed_b = panel.get_by_label("Seed B", exact=True)
    seed_b.fill("7")
    seed_b.press("Enter")
    expect(page).to_have_url(f"{app_url}?tab=gan_interpolation&seed_a=5&seed_b=7")
    expect(lesson_link(page)).to_have_value(f"{app_url}?tab=gan_interpolation&seed_a=5&seed_b=7")



def test_dropping_a_png_on_its_tab_restores_the_settings(page, app_url, tmp_path):
    import genart_playground as gp
    from genart_playground import recipes

    result = gp.gan_interpolation(4, 11, frames=6, method="lerp", truncation=0.6)
    frame = tmp_path / "frame.png"
    frame.write_bytes(recipes.png_with_recipe(result.images[2], {**result.metadata, "frame": 2}))
    page.goto(f"{app_url}?tab=gan_interpolation")
    expect(lesson_link(page)).to_have_value(f"{app_url}?tab=gan_interpolation")  # loaded
    panel = visible_panel(page)
    panel.locator('input[type="file"][accept=".png"]').set_input_files(str(frame))  # the recipe box
    expect(panel.get_by_label("Seed A", exact=True)).to_have_value("4")
    expect(panel.get_by_label("Seed B", exact=True)).to_have_value("11")
    expect(panel.get_by_label("lerp", exact=True)).to_be_checked()
    expect(lesson_link(page)).to_have_value(
        f"{app_url}?tab=gan_interpolation&seed_a=4&seed_b=11&frames=6&method=lerp&truncation=0.6")


def _image(panel, label: str):
    """The picture shown in the image block with this label."""
    return panel.locator("[data-testid='block-label']", has_text=label).locator("xpath=..").locator("img")


def _open(panel, accordion: str, button: str) -> None:
    panel.get_by_text(accordion, exact=True).first.click()
    panel.get_by_role("button", name=button, exact=True).click()


def test_the_teaching_views_run_in_the_browser(page, app_url, tmp_path):
    """The denoising timeline (with its step slider), the diffusion walk's video, the GAN's slerp/lerp
    comparison and the VAE's latent noise, on the built-in models."""
    page.goto(app_url)
    expect(lesson_link(page)).to_have_value(app_url)
    panel = visible_panel(page)

    _open(panel, "Denoising timeline", "Show the denoising steps")
    page.wait_for_function(OUTPUT_SHOWN, arg=panel.element_handle(), timeout=TIMEOUT_MS)
    step = panel.get_by_role("spinbutton", name="number input for Step")
    expect(step).to_have_value("19")  # it jumps to the last of the model's 20 steps (0 to 19)
    noisy = _image(panel, "Noisy latents the model sees at this step")
    last = noisy.get_attribute("src")
    step.fill("0")  # the pure noise
    step.press("Enter")
    expect(noisy).not_to_have_attribute("src", last)  # another step's picture, with no model run
    # The main gallery, recipe and Show code now describe the timeline's run (issue 14 §4).
    expect(panel.get_by_text('"task": "denoising_timeline"').first).to_be_attached()
    panel.get_by_text("Show code", exact=True).first.click()
    expect(panel.locator(".cm-content").first).to_contain_text("denoising_timeline(")
    page.screenshot(path=str(screenshot_path(tmp_path, "denoising_timeline")), full_page=True)

    _open(panel, "Walk between two prompts or seeds", "Walk")
    expect(panel.locator("video[src*='.mp4']").first).to_be_attached()

    page.get_by_role("tab", name="GAN interpolation", exact=True).click()
    panel = visible_panel(page)
    _open(panel, "Compare slerp and lerp", "Compare slerp and lerp")
    expect(_image(panel, "Frames: lerp (top row), slerp (bottom row)")).to_be_visible()
    page.screenshot(path=str(screenshot_path(tmp_path, "slerp_vs_lerp")), full_page=True)

    page.get_by_role("tab", name="VAE reconstruction", exact=True).click()
    panel = visible_panel(page)
    panel.locator("button.gallery-item").first.click()  # the first example image
    noise = panel.get_by_role("spinbutton", name="number input for Latent noise")
    noise.fill("0.5")
    noise.press("Enter")
    panel.get_by_role("button", name="Encode and decode", exact=True).click()
    page.wait_for_function(OUTPUT_SHOWN, arg=panel.element_handle(), timeout=TIMEOUT_MS)
    expect(panel.get_by_text('"latent_noise": 0.5').first).to_be_attached()


def test_a_png_dropped_after_a_lesson_link_keeps_its_own_settings(page, app_url, tmp_path):
    """The link asks for img2img at strength 0.3; the PNG, made by gatys at strength 0.8, wins."""
    import genart_playground as gp
    from genart_playground import recipes

    content = tmp_path / "content.png"
    from PIL import Image
    Image.new("RGB", (48, 48), (200, 40, 40)).save(content)
    result = gp.style_transfer(Image.open(content), Image.new("RGB", (48, 48), (0, 0, 255)), method="gatys",
                               steps=2, size=48, strength=0.8, seed=6)
    made = tmp_path / "made.png"
    made.write_bytes(recipes.png_with_recipe(result.images[0], result.metadata))
    page.goto(f"{app_url}?tab=style_transfer&method=img2img&strength=0.3")
    panel = visible_panel(page)
    strength = panel.get_by_role("spinbutton", name="number input for Strength")
    expect(strength).to_have_value("0.3")
    panel.locator('input[type="file"][accept=".png"]').set_input_files(str(made))
    expect(panel.get_by_label("gatys", exact=True)).to_be_checked()
    expect(panel.get_by_label("Seed", exact=True)).to_have_value("6")
    expect(strength).to_have_value("0.8")


def test_the_evaluation_lab_runs_in_the_browser(page, app_url, tmp_path):
    """A lesson link sets the held-out prompt set at one sample each; the report card, the worst prompts'
    pictures and Show code follow; then a 3×1 X/Y grid."""
    page.goto(f"{app_url}?tab=evaluate&prompt_set=heldout&samples_per_prompt=1")
    expect(page.get_by_role("tab", name="Evaluation lab", exact=True)).to_have_attribute("aria-selected", "true")
    panel = visible_panel(page)
    page.evaluate(WATCH_PROGRESS, PROGRESS)
    panel.get_by_role("button", name="Evaluate", exact=True).click()
    expect(panel.get_by_text("Mode collapse", exact=False).first).to_be_visible()
    expect(panel.locator("table").first).to_contain_text("builtin/shapes-t2i")
    expect(panel.locator("table").first).to_contain_text("FID")
    page.wait_for_function(OUTPUT_SHOWN, arg=panel.element_handle(), timeout=TIMEOUT_MS)  # the worst prompts
    assert page.evaluate("window.sawProgress"), "no progress bar or progress text showed while it ran"
    panel.get_by_text("Show code", exact=True).first.click()
    expect(panel.locator(".cm-content").first).to_contain_text("from genart_playground import compare")
    page.screenshot(path=str(screenshot_path(tmp_path, "evaluation_lab")), full_page=True)

    panel.get_by_text("X/Y grid", exact=True).first.click()
    values = panel.get_by_label("Y values")
    values.fill("0")
    panel.get_by_role("button", name="Draw the grid", exact=True).click()
    expect(_image(panel, "Grid")).to_be_visible()
    expect(panel.get_by_text('"x": "prompt"').first).to_be_attached()


def test_enter_generates_and_what_the_model_does_not_know_shows_beside_the_pictures(page, app_url):
    """Issue 14 §3 and §4: Shift+Enter is a new line, Enter generates; a word the built-in model does not
    know is named next to the pictures and stays there (not a toast)."""
    page.goto(app_url)
    expect(lesson_link(page)).to_have_value(app_url)
    prompt = visible_panel(page).locator("textarea").first
    prompt.fill("a red")
    prompt.press("Shift+Enter")
    prompt.type("cat")
    expect(prompt).to_have_value("a red\ncat")
    prompt.press("Enter")
    notes = page.locator("#t2i-warnings")
    expect(notes).to_be_visible()
    expect(notes).to_contain_text("does not know the word 'cat'")
    expect(prompt).to_have_value("a red\ncat")  # Enter ran it, and added no line
    prompt.fill("a red circle")
    prompt.press("Enter")
    expect(notes).to_be_hidden()  # the next run knows every word: the note goes


def test_stop_ends_a_long_run_and_a_short_job_does_not_wait_behind_it(page, app_url, api_client):
    """Issue 14 §2: while a 1000-step style transfer runs, its button is disabled and Stop shows; a GAN walk
    (another visitor's, over the API) finishes meanwhile in its own lane; Stop ends the run and frees its
    lane at once. (The walk is not run in this page's GAN tab: a loss plot streamed into a hidden tab makes
    Gradio's plot throw "Cannot read properties of null (reading 'offsetWidth')".)"""
    page.goto(f"{app_url}?tab=style_transfer&steps=1000&size=256")
    expect(page.get_by_role("tab", name="Style transfer", exact=True)).to_have_attribute("aria-selected", "true")
    panel = visible_panel(page)
    panel.locator('[data-testid="dataset-cell-0-0"], button.gallery-item').first.click()  # content and style
    run = panel.get_by_role("button", name="Transfer style", exact=True)
    stop = panel.get_by_role("button", name="Stop", exact=True)
    run.click()
    expect(run).to_be_disabled()
    expect(stop).to_be_visible()

    frames = api_client.predict(0, 1, "builtin/shapes-gan", 4, "slerp", 1.0, api_name="/gan_interpolation")[0]
    assert len(frames) == 4
    expect(stop).to_be_visible()  # the long run still goes: the walk did not wait for it
    stop.click()
    expect(stop).to_be_hidden()
    expect(run).to_be_enabled()
    steps = panel.get_by_label("Steps", exact=True)
    steps.fill("5")
    steps.press("Enter")
    run.click()  # the lane is free: a short run starts at once and ends
    expect(run).to_be_disabled()
    expect(run).to_be_enabled()
    expect(panel.get_by_text('"steps": 5').first).to_be_attached()


def test_the_run_history_puts_an_earlier_runs_settings_back(page, app_url):
    """Issue 14 §4: each tab lists this session's runs with their recipes; one click restores a run."""
    page.goto(f"{app_url}?seed=3")
    expect(lesson_link(page)).to_have_value(f"{app_url}?tab=text_to_image&seed=3")
    panel = visible_panel(page)
    seed = panel.get_by_label("Seed", exact=True)
    generate = panel.get_by_role("button", name="Generate", exact=True)
    generate.click()
    expect(panel.get_by_text('"seed": 3').first).to_be_attached()
    seed.fill("7")
    seed.press("Tab")
    generate.click()
    expect(panel.get_by_text('"seed": 7').first).to_be_attached()
    panel.get_by_text("This session's runs", exact=True).click()
    runs = panel.locator(".run-history label")
    expect(runs).to_have_count(2)
    expect(runs.nth(0)).to_contain_text("2. “a red circle on the left” · seed 7")  # newest first
    runs.nth(1).click()
    expect(seed).to_have_value("3")


def test_switching_style_transfer_to_img2img_and_back_raises_no_javascript_error(page, app_url):
    """Issue 14 §4; the page fixture fails the test on any JavaScript error."""
    page.goto(f"{app_url}?tab=style_transfer")
    expect(page.get_by_role("tab", name="Style transfer", exact=True)).to_have_attribute("aria-selected", "true")
    panel = visible_panel(page)
    panel.get_by_label("img2img", exact=True).check()
    expect(panel.get_by_text("Style prompt", exact=True).first).to_be_visible()
    panel.get_by_label("gatys", exact=True).check()
    expect(panel.get_by_label("gatys", exact=True)).to_be_checked()


def test_a_missing_input_is_named_under_its_control_and_no_output_shows_an_error(page, app_url):
    """Issue 14 §4: "Upload an image first" stays under the image box (Gradio's validator), no output turns
    into an error badge, and a run button refused so comes back at once."""
    page.goto(f"{app_url}?tab=vae_reconstruction")
    expect(page.get_by_role("tab", name="VAE reconstruction", exact=True)).to_have_attribute("aria-selected", "true")
    panel = visible_panel(page)
    panel.get_by_role("button", name="Encode and decode", exact=True).click()
    expect(panel.get_by_text("Upload an image first (or click an example below).")).to_be_visible()
    expect(panel.locator(".error")).to_have_count(0)  # Gradio's red "Error" badge over an output

    page.get_by_role("tab", name="Style transfer", exact=True).click()
    panel = visible_panel(page)
    run = panel.get_by_role("button", name="Transfer style", exact=True)
    run.click()
    expect(panel.get_by_text("Upload a style image first: gatys copies its textures and colours.")).to_be_visible()
    expect(run).to_be_enabled()
    expect(panel.get_by_role("button", name="Stop", exact=True)).to_be_hidden()


def test_a_run_clicked_while_an_example_loads_uses_the_example(page, app_url):
    """Issue 14 §4: the example's values come from the server; a run clicked before they arrive waits for
    them. The example's request is held here until after the click, so the click always comes first."""
    page.goto(f"{app_url}?tab=vae_reconstruction")
    expect(page.get_by_role("tab", name="VAE reconstruction", exact=True)).to_have_attribute("aria-selected", "true")
    panel = visible_panel(page)
    held = []

    def hold_the_example(route):
        if '"data":[0]' in (route.request.post_data or "") and not held:
            held.append(route)
        else:
            route.continue_()
    page.route("**/gradio_api/run/predict*", hold_the_example)
    panel.locator("button.gallery-item").first.click()  # the first example image
    for _ in range(200):  # Playwright hands the request to the handler while it waits
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1, "the example's request was not seen"
    panel.get_by_role("button", name="Encode and decode", exact=True).click()
    held[0].continue_()
    page.wait_for_function(OUTPUT_SHOWN, arg=panel.element_handle(), timeout=TIMEOUT_MS)
    expect(panel.get_by_text("Upload an image first (or click an example below).")).to_have_count(0)
    expect(panel.get_by_text('"task": "vae_reconstruction"').first).to_be_attached()


def test_gan_frame_captions_sit_under_their_frames_and_no_column_is_cut_off(page, app_url):
    """Issue 14 §4, on the built-in conditional GAN, whose frames are captioned with their classes."""
    page.goto(f"{app_url}?tab=gan_interpolation&model=builtin/shapes-gan")
    expect(page.get_by_role("tab", name="GAN interpolation", exact=True)).to_have_attribute("aria-selected", "true")
    panel = visible_panel(page)
    panel.get_by_role("button", name="Interpolate", exact=True).click()
    frames = panel.locator(".captions-below .gallery-item")
    expect(frames).to_have_count(16)
    layout = page.evaluate("""() => {
      const gallery = document.querySelector(".captions-below .grid-container").getBoundingClientRect();
      return [...document.querySelectorAll(".captions-below .gallery-item")].map((item) => {
        const box = item.getBoundingClientRect();
        const img = item.querySelector("img").getBoundingClientRect();
        const caption = item.querySelector(".caption-label").getBoundingClientRect();
        return {inside: box.left >= gallery.left - 1 && box.right <= gallery.right + 1,
                below: caption.top >= img.bottom - 1};
      });
    }""")
    assert all(frame["inside"] for frame in layout), "a column of frames is cut off"
    assert all(frame["below"] for frame in layout), "a caption covers its frame"


def test_a_photo_goes_through_the_photo_autoencoder_and_both_built_ins_side_by_side(page, app_url, tmp_path):
    """Issue 14 §1: a learner uploads a photo (matplotlib's Grace Hopper portrait, public domain, never
    trained on); the tab's default autoencoder is the photo one, and the comparison shows the shapes VAE
    beside it, offline."""
    from genart_playground.data import photos

    photo = tmp_path / "grace_hopper.png"
    photos.heldout_photos(256)[2].image.save(photo)
    page.goto(f"{app_url}?tab=vae_reconstruction")
    expect(page.get_by_role("tab", name="VAE reconstruction", exact=True)).to_have_attribute("aria-selected", "true")
    panel = visible_panel(page)
    panel.locator("input[type=file]").first.set_input_files(str(photo))
    expect(panel.locator("img[alt]").first).to_be_visible()
    panel.get_by_role("button", name="Encode and decode", exact=True).click()
    expect(panel.get_by_text('"model": "builtin/photo-vae"').first).to_be_attached()
    psnr = float(panel.get_by_text(re.compile(r'"psnr": [0-9.]+')).first.inner_text().split(":")[1].strip(" ,"))
    assert psnr >= 25, psnr  # a photo comes back as a photo (the shapes VAE gets about 15 dB)

    _open(panel, "Compare two autoencoders", "Compare")
    expect(panel.get_by_text('"model": "builtin/shapes-vae"').first).to_be_attached()  # the second side's metrics
    page.screenshot(path=str(screenshot_path(tmp_path, "vae_photo")), full_page=True)


def test_one_prompt_through_three_families_and_the_token_timeline(page, app_url, tmp_path):
    """Issue 15 §3: the comparison view runs the three built-ins side by side (each picture with its
    family, time and network evaluations), and the token timeline writes the picture with its slider."""
    from genart_playground.families.text_to_image.family_comparison import ARCHITECTURES
    from genart_playground.models import loading, registry

    shipped = [m for m in ARCHITECTURES if loading.availability(registry.resolve("text_to_image", m)) != "missing"]
    page.goto(app_url)
    panel = visible_panel(page)
    _open(panel, "One prompt, three families", "Compare the three families")
    for model in shipped:  # each picture's caption: its family, time and network evaluations
        caption = re.compile(re.escape(ARCHITECTURES[model]) + r": [0-9.]+ s, [0-9]+ network evaluations")
        expect(panel.get_by_text(caption).first).to_be_attached(timeout=TIMEOUT_MS)
    page.screenshot(path=str(screenshot_path(tmp_path, "three_families")), full_page=True)

    if "builtin/shapes-vqgpt" not in shipped:
        return
    _open(panel, "Token timeline (token models)", "Write it token by token")
    slider = panel.get_by_role("spinbutton", name="number input for Tokens written")
    expect(slider).to_have_value("64", timeout=TIMEOUT_MS)  # it jumps to the last frame: all 64 tokens
    frame = _image(panel, "The picture so far")
    last = frame.get_attribute("src")
    slider.fill("10")
    slider.press("Enter")
    expect(frame).not_to_have_attribute("src", last)  # an earlier frame, with no model run


def test_a_wobbly_green_triangle_drawn_on_the_canvas_comes_back_a_clean_green_triangle(page, app_url, tmp_path):
    """Issue 16 §2: the learner picks the paper, draws with the green pen, and both built-in translators
    answer side by side; the checker reads the Pix2Pix picture as the triangle drawn."""
    from PIL import Image

    from genart_playground.data import checker

    page.goto(f"{app_url}?tab=translate_image")
    expect(page.get_by_role("tab", name="Image translation", exact=True)).to_have_attribute("aria-selected", "true")
    panel = visible_panel(page)
    panel.get_by_label("gray").check()  # a new gray paper
    canvas = panel.locator("canvas").first
    expect(canvas).to_be_visible()
    page.wait_for_timeout(500)  # the editor redraws its new background
    panel.get_by_role("button", name="Brush", exact=True).click()
    panel.get_by_role("button", name="Color", exact=True).click()
    panel.locator("button.color[style*='rgb(40, 170, 70)']").click()  # the green pen
    box = canvas.bounding_box()  # the paper (shown at least 256 px wide) sits in the canvas's middle
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    corners = [(0, -70), (70, 62), (-70, 62), (-4, -64)]  # a triangle, its last side not quite closed
    page.mouse.move(x0 + corners[0][0], y0 + corners[0][1])
    page.mouse.down()
    for x, y in corners[1:]:
        page.mouse.move(x0 + x + 3, y0 + y - 2, steps=12)  # a hand's wobble
    page.mouse.up()
    panel.get_by_role("button", name="Translate the drawing", exact=True).click()
    expect(panel.get_by_text('"model": "builtin/shapes-pix2pix"').first).to_be_attached()
    page.wait_for_function(OUTPUT_SHOWN, arg=panel.element_handle(), timeout=TIMEOUT_MS)
    source = page.locator("#translation-model img").first.get_attribute("src")
    picture = tmp_path / "translation.png"
    picture.write_bytes(page.request.get(source).body())
    judged = checker.judge(Image.open(picture))
    assert judged.agrees(color="green", shape="triangle", background="gray"), judged
    page.screenshot(path=str(screenshot_path(tmp_path, "translate_image")), full_page=True)


def test_a_stylegan_walk_in_w_shows_its_mean_style_and_style_mixing_shows_the_grid_and_its_sources(
        page, app_url, tmp_path):
    """Issue 16 §1 on the built-in StyleGAN: W space picks lerp, the mean style's picture appears,
    and the style-mixing grid comes with the table of where each attribute came from."""
    page.goto(f"{app_url}?tab=gan_interpolation&model=builtin/shapes-stylegan&frames=8")
    expect(page.get_by_role("tab", name="GAN interpolation", exact=True)).to_have_attribute("aria-selected", "true")
    panel = visible_panel(page)
    panel.get_by_label("W: the styles (StyleGAN)").check()
    expect(panel.get_by_label("lerp", exact=True)).to_be_checked()
    panel.get_by_role("button", name="Interpolate", exact=True).click()
    expect(panel.locator(".captions-below .gallery-item")).to_have_count(8, timeout=TIMEOUT_MS)
    expect(panel.get_by_text('"space": "w"').first).to_be_attached()
    expect(_image(panel, "The mean style's picture (truncation pulls every seed towards it)")).to_be_visible()

    _open(panel, "Style mixing (StyleGAN)", "Mix styles")
    expect(_image(panel, "Style mixing (the PNG carries its recipe)")).to_be_visible(timeout=TIMEOUT_MS)
    expect(panel.get_by_text("layer 4 (16×16)").first).to_be_visible()
    expect(panel.get_by_text('"crossover_resolution": 16').first).to_be_attached()
    page.screenshot(path=str(screenshot_path(tmp_path, "style_mixing")), full_page=True)


def lab_step(panel) -> int:
    """The training lab's step, read from its views' captions ("gan · points · step 300 · 8/8 modes")."""
    steps = [int(step) for step in re.findall(r"· step (\d+) ·", panel.inner_text())]
    return max(steps, default=-1)


def settled_step(page, panel) -> int:
    """The lab's step once no refresh is on its way (two reads, 1.5 s apart, agree)."""
    while True:
        first = lab_step(panel)
        page.wait_for_timeout(1500)
        if lab_step(panel) == first:
            return first


def test_the_training_lab_plays_pauses_and_resumes_and_survives_a_hidden_tab(page, app_url, tmp_path):
    """Issue 32 §1: Play refreshes the views as the GAN learns; another tab opened and closed meanwhile throws
    nothing (a plot fed while hidden once did); Pause holds the step; Play goes on from it; Step steps D only."""
    page.goto(f"{app_url}?tab=toy_training")
    expect(page.get_by_role("tab", name="Training lab", exact=True)).to_have_attribute("aria-selected", "true")
    panel = visible_panel(page)
    play = panel.get_by_role("button", name="Play", exact=True)
    pause = panel.get_by_role("button", name="Pause", exact=True)
    play.click()
    page.wait_for_function("() => /· step [1-9][0-9]* ·/.test(document.body.innerText)")
    page.get_by_role("tab", name="Normalizing flow", exact=True).click()  # away while it plays ...
    page.wait_for_timeout(1500)
    page.get_by_role("tab", name="Training lab", exact=True).click()  # ... and back
    panel = visible_panel(page)
    before = lab_step(panel)
    page.wait_for_function(f"() => [...document.body.innerText.matchAll(/· step (\\d+) ·/g)]"
                           f".some(m => Number(m[1]) > {before})")  # still refreshing
    pause.click()
    paused = settled_step(page, panel)  # a refresh on its way when Pause landed may still arrive; then none
    assert paused > before
    play.click()
    page.wait_for_function(f"() => [...document.body.innerText.matchAll(/· step (\\d+) ·/g)]"
                           f".some(m => Number(m[1]) > {paused})")  # resumed from where it paused
    pause.click()
    panel.get_by_label("D only").check()
    resumed = settled_step(page, panel)
    page.screenshot(path=str(screenshot_path(tmp_path, "toy_training_paused")), full_page=True)
    panel.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function(f"() => [...document.body.innerText.matchAll(/· step (\\d+) ·/g)]"
                           f".some(m => Number(m[1]) > {resumed})")
    assert lab_step(panel) == resumed + 100  # one refresh: 100 steps

    page.screenshot(path=str(screenshot_path(tmp_path, "toy_training_live")), full_page=True)

    # A closed page stops its Play at the next step: the server's lab stops moving.
    from genart_playground.families.toy_training import tab

    play.click()
    page.wait_for_function(f"() => [...document.body.innerText.matchAll(/· step (\\d+) ·/g)]"
                           f".some(m => Number(m[1]) > {resumed + 100})")
    lab = next(reversed(tab.labs.values()))
    page.close()
    stopped = lab.step
    for _ in range(20):  # the server notices the closed stream within a few seconds
        time.sleep(1)
        if lab.step == stopped:
            break
        stopped = lab.step
    time.sleep(2)
    assert lab.step == stopped, "the closed page's lab still trains"


def test_points_painted_on_the_training_labs_canvas_are_what_the_flow_learns(page, app_url, tmp_path):
    """Issue 32 §1: "drawn" points come from the canvas: a stroke in its upper right, and the flow's
    samples gather there (the lab's measures count the drawing's 8 stretches)."""
    from genart_playground.families.toy_training import tab

    page.goto(f"{app_url}?tab=toy_training")
    panel = visible_panel(page)
    panel.get_by_label("flow", exact=True).check()
    panel.get_by_label("Points").click()
    page.get_by_role("option", name="drawn").click()
    panel.get_by_text("Draw your own points (Points: drawn)").click()
    canvas = panel.locator("canvas").first
    expect(canvas).to_be_visible()
    page.wait_for_timeout(500)
    panel.get_by_role("button", name="Brush", exact=True).click()
    box = canvas.bounding_box()
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x0 + 20, y0 - 70)  # a stroke from the middle right up to the upper right
    page.mouse.down()
    page.mouse.move(x0 + 90, y0 - 20, steps=15)
    page.mouse.up()
    steps = panel.get_by_label("Steps per refresh").first  # the number box (the slider has the same label)
    steps.fill("300")
    steps.press("Enter")
    panel.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function("() => /flow · points · step 300 ·/.test(document.body.innerText)")
    lab = next(reversed(tab.labs.values()))
    drawn = lab.runs["flow"].data.drawn
    assert len(drawn) > 50 and (drawn[:, 0] > 0).all() and (drawn[:, 1] > -0.5).all()  # the stroke, upper right
    samples = lab.runs["flow"].samples()
    assert (samples[:, 0] > 0).float().mean() > 0.8  # the flow has moved its mass over to the stroke
    page.screenshot(path=str(screenshot_path(tmp_path, "toy_training_drawn")), full_page=True)


def wait_for_json(page, pattern: str, timeout_ms: int = TIMEOUT_MS) -> None:
    """Until the page shows JSON matching `pattern` (a regular expression, without whitespace: Gradio's JSON
    view puts each token on a line of its own)."""
    page.wait_for_function("(pattern) => new RegExp(pattern).test(document.body.innerText.replace(/\\s+/g, ''))",
                           arg=pattern, timeout=timeout_ms)


def test_a_picture_model_trained_in_the_lab_pauses_resumes_and_walks_in_the_gan_tab(page, app_url, tmp_path,
                                                                                    monkeypatch):
    """Issue 32 §2: Train, Pause (a checkpoint), Train again (resumed from it) to the end; the GAN tab's
    generator list then offers lab/<name>, and a walk runs with it."""
    from genart_playground.families.toy_training import picture_runs
    from genart_playground.models import registry

    monkeypatch.setattr(picture_runs, "RUNS_DIR", tmp_path / "lab")
    # 40 steps (Pause lands well before the end, even when a step is quick), judged once at the end (on a busy
    # machine an evaluation takes seconds), set by a lesson link: the server fills them in before the page shows
    page.goto(f"{app_url}?tab=toy_training&run_name=browser-gan&picture_family=gan_interpolation&picture_steps=40"
              "&picture_every=1000")
    panel = visible_panel(page)
    panel.get_by_text("Train a picture model on the shapes world, and use it in every tab").click()
    expect(panel.get_by_label("Run name")).to_have_value("browser-gan")
    expect(panel.get_by_label("Training steps").first).to_have_value("40")
    panel.get_by_role("button", name="Train", exact=True).click()
    wait_for_json(page, r'"state":"training","step":[1-9]')
    panel.get_by_role("button", name="Pause picture run", exact=True).click()
    wait_for_json(page, r'"state":"paused"', 3 * TIMEOUT_MS)
    wait_for_json(page, r'"model":"lab/browser-gan"')  # paused: its model is saved and registered
    panel.get_by_role("button", name="Train", exact=True).click()  # resumes from the checkpoint
    wait_for_json(page, r'"state":"finished","step":40', 3 * TIMEOUT_MS)
    page.screenshot(path=str(screenshot_path(tmp_path, "toy_training_pictures")), full_page=True)

    page.get_by_role("tab", name="GAN interpolation", exact=True).click()
    gan = visible_panel(page)
    generator = gan.get_by_label("Generator", exact=True)
    generator.click()  # opening the list asks the server for it again: the lab's model is there now
    page.get_by_role("option").filter(has_text="lab/browser-gan").click()
    gan.get_by_role("button", name="Interpolate", exact=True).click()
    expect(gan.get_by_text('"model": "lab/browser-gan"').first).to_be_attached()
    page.wait_for_function(OUTPUT_SHOWN, arg=gan.element_handle(), timeout=TIMEOUT_MS)
    registry.unregister("lab/browser-gan")
