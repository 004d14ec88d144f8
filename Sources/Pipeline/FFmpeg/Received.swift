/// What a `receive_*` call produced.
enum Received {
    case item
    case again
    case endOfStream
}
