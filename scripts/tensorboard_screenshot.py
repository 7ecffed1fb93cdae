#!/usr/bin/env python3
"""Screenshots TensorBoard showing a VAEKit run, in headless Chromium (the README's picture).

    apt-get install chromium chromium-driver && pip install tensorboard selenium
    vae train --seed 1 --epochs 5 --output runs/tensorboard/mlp      # with trainer_params.picture_every: 1
    python3 scripts/tensorboard_screenshot.py runs/tensorboard docs/images/tensorboard.png

Starts `tensorboard --logdir LOGDIR` on a free port, opens its time-series page, closes the settings pane, filters
the cards to the loss curves and the picture grids, and saves a 1400×1000 PNG.
"""
import socket, subprocess, sys, time, urllib.request

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

logdir, output = sys.argv[1], sys.argv[2]
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
server = subprocess.Popen(["tensorboard", "--logdir", logdir, "--port", str(port), "--host", "127.0.0.1"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    url = f"http://127.0.0.1:{port}/"
    for _ in range(120):
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            time.sleep(0.5)
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,1000"]:
        options.add_argument(argument)
    browser = webdriver.Chrome(options=options)
    try:
        browser.get(url + "?darkMode=false#timeseries")
        time.sleep(6)
        for button in browser.find_elements(By.CSS_SELECTOR, "button[aria-label='Close side pane']"):
            button.click()
        search = browser.find_element(By.CSS_SELECTOR, "input[placeholder^='Filter tags']")
        search.send_keys("loss/t|pictures", Keys.ENTER)
        time.sleep(6)
        browser.save_screenshot(output)
    finally:
        browser.quit()
finally:
    server.terminate()
print(f"wrote {output}")
