import Foundation
@testable import RecordkeeperWeb
import Testing

/// The custody alerts of a recent moment (`CustodyAlertBoard`): computed when none is recent
/// enough, served while fresh, refreshed behind the reader once stale, shared by readers who
/// arrive during a computation; a failed computation is not kept.
@Suite("Custody alerts of a recent moment")
struct CustodyAlertBoardTests {
    final class Clock: @unchecked Sendable {
        private let lock = NSLock()
        private var t: Int64 = 1_000_000
        func now() -> Int64 { lock.withLock { t } }
        func advance(_ ms: Int64) { lock.withLock { t += ms } }
    }
    actor Calls {
        var count = 0
        func add() { count += 1 }
    }
    struct Failure: Error {}

    @Test func computedOnceWhileFreshRefreshedBehindWhenStaleAwaitedWhenTooOld() async throws {
        let clock = Clock(), calls = Calls()
        let board = CustodyAlertBoard(maxAgeMillis: 60_000, refreshAfterMillis: 15_000, now: { clock.now() })
        let compute: CustodyAlertBoard.Compute = { _ in await calls.add(); return [] }
        #expect(try await board.current(compute).asOfMillis == 1_000_000)
        #expect(await calls.count == 1)
        clock.advance(10_000) // fresh: served as it is
        #expect(try await board.current(compute).asOfMillis == 1_000_000)
        #expect(await calls.count == 1)
        clock.advance(10_000) // stale: still served, and the next computation starts behind it
        #expect(try await board.current(compute).asOfMillis == 1_000_000)
        var latest: Int64 = 0
        for _ in 0..<500 where latest != 1_020_000 {
            latest = try await board.current(compute).asOfMillis
            if latest != 1_020_000 { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(latest == 1_020_000)
        #expect(await calls.count == 2)
        clock.advance(61_000) // too old: the reader waits for a new one
        #expect(try await board.current(compute).asOfMillis == 1_081_000)
        #expect(await calls.count == 3)
        clock.advance(-120_000) // a clock set back: the snapshot is not taken as fresh
        #expect(try await board.current(compute).asOfMillis == 961_000)
        #expect(await calls.count == 4)
    }

    @Test func readersDuringAComputationShareItAndAFailureIsNotKept() async throws {
        let clock = Clock(), calls = Calls()
        let board = CustodyAlertBoard(now: { clock.now() })
        let slow: CustodyAlertBoard.Compute = { _ in
            await calls.add()
            try await Task.sleep(for: .milliseconds(300))
            return []
        }
        async let first = board.current(slow)
        async let second = board.current(slow)
        async let third = board.current(slow)
        _ = try await (first, second, third)
        #expect(await calls.count == 1)

        let broken = CustodyAlertBoard(now: { clock.now() })
        await #expect(throws: Failure.self) { _ = try await broken.current { _ in throw Failure() } }
        #expect(try await broken.current { _ in [] }.asOfMillis == 1_000_000)
    }
}
