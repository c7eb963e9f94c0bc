"""Open a local HTML page in real headless Chromium (Debian's /usr/bin/chromium via Playwright) and
report what a person would notice: console errors, script errors, failed loads, broken images and audio."""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"]


@dataclass
class PageReport:
    title: str = ""
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    broken_audio: list[str] = field(default_factory=list)
    images: int = 0
    audio: int = 0

    @property
    def problems(self) -> list[str]:
        return self.console_errors + self.page_errors + self.failed_requests + self.broken_images + self.broken_audio


def available() -> bool:
    return Path(CHROMIUM).exists()


def inspect_page(path: Path, screenshot: Path | None = None) -> PageReport:
    from playwright.sync_api import sync_playwright

    rep = PageReport()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.on("console", lambda m: rep.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: rep.page_errors.append(str(e)))
        # Chromium aborts the rest of a media download once it has what preload asked for
        # (net::ERR_ABORTED): not a failure. Broken media is caught element by element below.
        page.on("requestfailed", lambda r: rep.failed_requests.append(f"{r.url}: {r.failure}")
                if "ERR_ABORTED" not in (r.failure or "") else None)
        page.goto(path.resolve().as_uri(), wait_until="load")
        rep.title = page.title()
        # Ask every <audio> to load its metadata and wait until each has loaded or failed.
        page.evaluate("""() => Promise.all([...document.querySelectorAll('audio')].map(a => new Promise(res => {
            if (a.readyState >= 1 || a.error) return res();
            a.addEventListener('loadedmetadata', res, {once: true});
            a.addEventListener('error', res, {once: true});
            a.load();
            setTimeout(res, 5000);
        })))""")
        info = page.evaluate("""() => ({
            images: [...document.images].map(i => ({src: i.getAttribute('src').slice(0, 80),
                                                    ok: i.complete && i.naturalWidth > 0})),
            audio: [...document.querySelectorAll('audio')].map(a => ({src: a.getAttribute('src'),
                ok: !a.error && a.readyState >= 1 && a.duration > 0})),
        })""")
        rep.images, rep.audio = len(info["images"]), len(info["audio"])
        rep.broken_images = [f"image {i['src']}" for i in info["images"] if not i["ok"]]
        rep.broken_audio = [f"audio {a['src']}" for a in info["audio"] if not a["ok"]]
        if screenshot is not None:
            page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    return rep
