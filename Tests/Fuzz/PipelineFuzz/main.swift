import CFuzzSupport
import FuzzHarness
#if canImport(Glibc)
import Glibc
#endif

/// libFuzzer's entry point: every input goes through the engine's untrusted-input path (``UntrustedInput``).
/// `WATCHFOLDER_FUZZ_VERBOSE=1` prints what became of each input (refused, failed, packaged) on stderr.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let outcome = UntrustedInput.run(UnsafeRawBufferPointer(start: data, count: size))
    if verbose {
        let line = "PipelineFuzz: \(size) bytes: \(outcome)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }
    return 0
}

let verbose = getenv("WATCHFOLDER_FUZZ_VERBOSE").map { String(cString: $0) == "1" } ?? false

// Built only with `-sanitize=fuzzer,address` (`make fuzz`, `make fuzz-check`): libFuzzer's driver takes its flags
// from the command line and calls `fuzzOneInput` with every input.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
