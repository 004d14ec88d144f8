import Foundation

/// Parses and prints bitrates written the way ffmpeg users write them: `5000k`, `2.8M`, `800000`.
public enum Bitrate {
    /// Bits per second for `text`, or nil when it is not a positive bitrate.
    public static func parse(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard let last = t.last else { return nil }
        let multiplier: Double
        var digits = Substring(t)
        switch last {
        case "k", "K": multiplier = 1_000; digits = digits.dropLast()
        case "m", "M": multiplier = 1_000_000; digits = digits.dropLast()
        default: multiplier = 1
        }
        // At most 1 Tbit/s: an absurd figure (`1e300M`) is no bitrate, not an integer overflow.
        guard let value = Double(digits), value > 0, value.isFinite, value * multiplier <= 1e12 else { return nil }
        return Int((value * multiplier).rounded())
    }

    /// `5000k` for 5_000_000; plain digits when not a whole number of kbit/s.
    public static func format(_ bitsPerSecond: Int) -> String {
        bitsPerSecond % 1000 == 0 ? "\(bitsPerSecond / 1000)k" : "\(bitsPerSecond)"
    }
}
