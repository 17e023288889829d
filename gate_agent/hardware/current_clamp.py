"""A current transformer (CT clamp) on one input of an ADS1115 ADC, via
`adafruit-circuitpython-ads1x15`: the machine's power from the RMS of its AC current.

Use a clamp with a voltage output (e.g. SCT-013-030: 1 V RMS at 30 A) on a mid-supply bias, so
the input swings around the bias; the RMS of the samples less their mean is the clamp's voltage.
"""

from __future__ import annotations

import math
from typing import Any

from gate_agent.interfaces import SensorError

SAMPLES = 96  # about 5.6 cycles of 50 Hz at 860 samples per second


class CurrentClamp:
    def __init__(
        self,
        channel: Any,
        *,
        amps_per_volt: float,
        mains_volts: float,
        samples: int = SAMPLES,
    ) -> None:
        self._channel = channel  # an adafruit_ads1x15 AnalogIn
        self._amps_per_volt, self._mains_volts, self._samples = amps_per_volt, mains_volts, samples

    @classmethod
    def on_i2c(
        cls,
        i2c: Any = None,
        *,
        address: int = 0x48,
        channel: int = 0,
        amps_per_volt: float,
        mains_volts: float,
    ) -> CurrentClamp:
        from adafruit_ads1x15 import ADS1115, AnalogIn

        if i2c is None:
            import board
            import busio

            i2c = busio.I2C(board.SCL, board.SDA)
        adc = ADS1115(i2c, address=address, gain=1, data_rate=860)
        return cls(AnalogIn(adc, channel), amps_per_volt=amps_per_volt, mains_volts=mains_volts)

    def amps(self) -> float:
        try:
            volts = [self._channel.voltage for _ in range(self._samples)]
        except (OSError, RuntimeError) as exc:
            raise SensorError(f"ADS1115 read failed: {exc}") from None
        mean = sum(volts) / len(volts)
        rms = math.sqrt(sum((v - mean) ** 2 for v in volts) / len(volts))
        return rms * self._amps_per_volt

    def watts(self) -> float:
        # Apparent power: a clamp sees current, not phase; good enough to tell busy from idle.
        return self.amps() * self._mains_volts
