#!/usr/bin/env python3
"""Checks a running `vae serve` from outside: its HTTP safety rules with raw requests, and (with --browser) the page
in headless Chromium through Selenium: a slider moves the decoded image, an upload moves the sliders, an
interpolation and a sample grid appear, and the console stays free of errors.

    python3 Tests/Browser/explorer_check.py http://127.0.0.1:PORT/ [--browser] [--screenshot FILE.png]

Exit status 0 when every check passes; otherwise 1 and the failed check on stderr.
"""
import argparse, base64, json, os, socket, sys, tempfile, time, urllib.parse


def fail(message):
    print("explorer_check: FAILED: " + message, file=sys.stderr)
    sys.exit(1)


def raw_request(host, port, head, body=b"", read_timeout=30):
    """Sends one HTTP/1.1 request as written (paths are not normalised) and returns (status, body)."""
    connection = socket.create_connection((host, port), timeout=read_timeout)
    try:
        try:
            connection.sendall(head.encode() + body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered (413) before reading everything: read that answer
        data = b""
        while True:
            try:
                chunk = connection.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                header, _, rest = data.partition(b"\r\n\r\n")
                length = [int(line.split(b":")[1]) for line in header.split(b"\r\n") if line.lower().startswith(b"content-length:")]
                if length and len(rest) >= length[0]:
                    break
    finally:
        connection.close()
    if not data:
        fail("no answer to " + head.splitlines()[0])
    header, _, rest = data.partition(b"\r\n\r\n")
    return int(header.split(b" ")[1]), rest


def post(host, port, path, body, content_type="application/json"):
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return raw_request(host, port, head, body)


def get(host, port, path):
    return raw_request(host, port, f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")


def http_checks(url):
    parts = urllib.parse.urlparse(url)
    host, port = parts.hostname, parts.port
    status, page = get(host, port, "/")
    if status != 200 or b"<html" not in page:
        fail(f"GET / answered {status}")
    status, body = get(host, port, "/api/runs")
    runs = json.loads(body)
    if status != 200 or not runs:
        fail(f"GET /api/runs answered {status}")
    run = runs[0]
    width = run["latentSize"]
    checks = [
        ("path traversal", lambda: get(host, port, "/../../etc/passwd"), 404),
        ("encoded traversal", lambda: get(host, port, "/%2e%2e/%2e%2e/etc/passwd"), 404),
        ("malformed JSON", lambda: post(host, port, "/api/decode", b'{"run": '), 400),
        ("wrong latent size", lambda: post(host, port, "/api/decode", json.dumps({"run": run["name"], "z": [0] * (width + 1)}).encode()), 400),
        ("NaN", lambda: post(host, port, "/api/decode", b'{"run": "%s", "z": [NaN]}' % run["name"].encode()), 400),
        ("unknown run", lambda: post(host, port, "/api/decode", json.dumps({"run": "../" + run["name"], "z": [0] * width}).encode()), 404),
        ("corrupt image", lambda: post(host, port, "/api/encode?run=" + run["name"], b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png"), 400),
        ("oversized body", lambda: post(host, port, "/api/decode", b" " * (4 * 1024 * 1024 + 1)), 413),
    ]
    for name, request, expected in checks:
        status, body = request()
        if status != expected:
            fail(f"{name}: expected {expected}, got {status} {body[:200]!r}")
        if b'"error"' not in body:
            fail(f"{name}: the {status} answer has no error message: {body[:200]!r}")
    status, image = post(host, port, "/api/decode", json.dumps({"run": run["name"], "z": [0] * width} if run["layout"]["kind"] != "vq" else {"run": run["name"], "codes": [0] * run["layout"]["side"] ** 2}).encode())
    if status != 200 or not image.startswith(b"\x89PNG"):
        fail(f"the server no longer decodes after the bad requests: {status}")
    print(f"explorer_check: HTTP checks passed ({len(checks)} bad requests refused, server still decoding)")
    return runs


def browser_checks(url, screenshot):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"]:
        options.add_argument(argument)
    if os.path.exists("/usr/bin/chromium"):
        options.binary_location = "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver_path = "/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None
    driver = webdriver.Chrome(options=options, service=Service(driver_path) if driver_path else Service())
    try:
        driver.get(url)

        def wait(condition, what, timeout=60):
            deadline = time.time() + timeout
            while time.time() < deadline:
                value = condition()
                if value:
                    return value
                time.sleep(0.1)
            fail("timed out waiting for " + what + "; page status: " + driver.find_element(By.ID, "status").text)

        wait(lambda: driver.execute_script("return document.body.dataset.ready === 'true'"), "the page to load its runs")
        version = lambda id: int(driver.find_element(By.ID, id).get_attribute("data-version") or 0)
        fingerprint = lambda: driver.execute_script("""
            const img = document.getElementById('decoded');
            if (!img.naturalWidth) return null;
            const canvas = document.createElement('canvas');
            canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
            const context = canvas.getContext('2d');
            context.drawImage(img, 0, 0);
            const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
            let sum = 0; for (let i = 0; i < data.length; i += 4) sum = (sum * 31 + data[i]) % 1000000007;
            return sum;""")
        wait(lambda: version("decoded") >= 1 and fingerprint() is not None, "the first decoded image")
        time.sleep(0.5)
        before, seen = fingerprint(), version("decoded")

        # Drag the first slider (the dimension of most KL) to the right.
        slider = driver.find_element(By.CSS_SELECTOR, "#sliders input[type=range]")
        value_before = float(slider.get_attribute("value"))
        ActionChains(driver).click_and_hold(slider).move_by_offset(slider.size["width"] // 2 - 2, 0).release().perform()
        wait(lambda: float(slider.get_attribute("value")) != value_before, "the slider to move")
        wait(lambda: version("decoded") > seen, "a decode after the slider moved")
        time.sleep(0.5)
        if fingerprint() == before:
            fail("moving the slider did not change the decoded image's pixels")
        print("explorer_check: slider moved, decoded pixels changed")

        # Upload a test image (fetched through the API as the PNG the model sees): the sliders jump to its code.
        name = driver.execute_script("return state.run.name")
        parts = urllib.parse.urlparse(url)
        _, body = post(parts.hostname, parts.port, "/api/encode", json.dumps({"run": name, "index": 7}).encode())
        upload = os.path.join(tempfile.mkdtemp(), "upload.png")
        with open(upload, "wb") as handle:
            handle.write(base64.b64decode(json.loads(body)["input"]))
        code_before = driver.execute_script("return state.z.slice()")
        slider_before = float(slider.get_attribute("value"))
        driver.find_element(By.ID, "file").send_keys(upload)
        wait(lambda: driver.execute_script("return state.z.slice()") != code_before, "the code to change to the upload's")
        wait(lambda: float(slider.get_attribute("value")) != slider_before, "the first slider to jump to the upload's code")
        slider_value = float(slider.get_attribute("value"))
        wait(lambda: driver.find_element(By.ID, "enc-recon").get_attribute("src").startswith("data:image/png"), "the reconstruction")
        print(f"explorer_check: upload encoded, first slider {slider_before:.2f} -> {slider_value:.2f}")

        driver.find_element(By.ID, "interpolate").click()
        wait(lambda: version("strip") >= 1, "the interpolation strip")
        driver.find_element(By.ID, "sample").click()
        wait(lambda: version("grid") >= 1, "the sample grid")
        if driver.find_element(By.ID, "status").text:
            fail("the page shows an error: " + driver.find_element(By.ID, "status").text)
        print("explorer_check: interpolation strip and sample grid shown")
        if screenshot:
            time.sleep(0.5)
            driver.save_screenshot(screenshot)
            print("explorer_check: screenshot " + screenshot)
        errors = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
        if errors:
            fail("console errors: " + "; ".join(entry.get("message", "") for entry in errors))
        print("explorer_check: browser checks passed, no console errors")
    finally:
        driver.quit()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--browser", action="store_true")
    parser.add_argument("--screenshot")
    arguments = parser.parse_args()
    http_checks(arguments.url)
    if arguments.browser:
        browser_checks(arguments.url, arguments.screenshot)
