// parseServio on the input quirks of SPEC §4 and on batches it must refuse whole, with a reason naming the path.
import { describe, expect, it } from 'vitest'
import { ErrorCodes } from '../../../../src/errors.js'
import { parseServio } from '../../../../src/sources/servio/parse.js'
import { repeatedKey } from '../../../../src/sources/servio/repeated-keys.js'
import { largeGuestBatch, servioFixture } from '../../../fixtures/servio/index.js'
import { bridgeErrorOf } from '../../thrown.js'

const parse = (text: string) => parseServio(Buffer.from(text, 'utf8'))

function refusal(text: string | Buffer): string {
  const error = bridgeErrorOf(() => parseServio(Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8')))
  expect(error.code).toBe(ErrorCodes.BAD_INPUT)
  expect(error.retriable).toBe(false)
  return error.message
}

describe('parseServio: the quirks of the document', () => {
  it('reads "Update " (trailing space) as Update', () => {
    expect(parse('{"Add":null,"Update ":{"Guests":[1]}}')).toEqual([{ action: 'update', entity: 'guest', listed: true, id: 1 }])
    expect(parseServio(servioFixture('guest-1-add.json'))).toEqual([{ action: 'add', entity: 'guest', listed: true, id: 23061 }])
  })

  it('reads "Companies" :null and "Companies":null , (JSON whitespace) and [ 1148]', () => {
    expect(parse('{"Update":{"Companies" :null ,"Guests" :[ 1148 ]}}')).toEqual([{ action: 'update', entity: 'guest', listed: true, id: 1148 }])
    expect(parseServio(servioFixture('room-1-update.json'))).toEqual([{ action: 'update', entity: 'room', listed: true, id: 160 }])
  })

  it('matches action and entity keys in any case and with any surrounding whitespace', () => {
    const text = '{" add":{"CLIENTS":[1]},"UPDATE\\t":{" guests":[2],"rooms ":[3]},"\\u00a0Delete\\n":{"companies":[4]}}'
    expect(parse(text)).toEqual([
      { action: 'add', entity: 'client', listed: true, id: 1 },
      { action: 'update', entity: 'guest', listed: true, id: 2 },
      { action: 'update', entity: 'room', listed: true, id: 3 },
      { action: 'delete', entity: 'company', listed: true, id: 4 },
    ])
  })

  it('takes null anywhere as nothing: an action, a list', () => {
    expect(parse('{"Add":null,"Update":{"Rooms":null,"Clients":null,"Companies":null,"Guests":null},"Delete":null}')).toEqual([])
    expect(parse('{}')).toEqual([])
    expect(parse('{"Delete":{}}')).toEqual([])
  })

  it('reads ids sent as decimal strings', () => {
    expect(parse('{"Add":{"Guests":["23061"," 160 ","007"]}}').map((c) => c.id)).toEqual([23061, 160, 7])
  })

  it('accepts the largest id it can carry exactly', () => {
    expect(parse('{"Add":{"Guests":[9007199254740991,"9007199254740991"]}}').map((c) => c.id)).toEqual([9007199254740991, 9007199254740991])
  })

  it('reads a body with a UTF-8 byte order mark and surrounding whitespace', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('\r\n {"Add":{"Rooms":[5]}} \n')])
    expect(parseServio(body)).toEqual([{ action: 'add', entity: 'room', listed: true, id: 5 }])
  })

  it('parses 10,000 ids in one batch', () => {
    const changes = parseServio(largeGuestBatch(10_000))
    expect(changes).toHaveLength(10_000)
    expect(changes[0]).toEqual({ action: 'update', entity: 'guest', listed: true, id: 1 })
    expect(changes[9_999]).toEqual({ action: 'update', entity: 'guest', listed: true, id: 10_000 })
  })
})

describe('parseServio: refused whole, with the path in the reason', () => {
  it('refuses the two truncated examples as invalid JSON', () => {
    expect(refusal(servioFixture('questionnaire-3-update-delete-clients-truncated.json'))).toMatch(/^the body is not valid JSON: /)
    expect(refusal(servioFixture('company-2-update-truncated.json'))).toMatch(/^the body is not valid JSON: /)
  })

  it('refuses an empty body and plain garbage', () => {
    expect(refusal('')).toBe('the body is empty')
    expect(refusal('   ')).toMatch(/not valid JSON/)
    expect(refusal('Add=12766')).toMatch(/not valid JSON/)
  })

  it.each([
    ['[{"Add":null}]', 'the body must be a JSON object of Add, Update and Delete, got [{"Add":null}]'],
    ['null', 'the body must be a JSON object of Add, Update and Delete, got null'],
    ['"Add"', 'the body must be a JSON object of Add, Update and Delete, got "Add"'],
    ['12766', 'the body must be a JSON object of Add, Update and Delete, got 12766'],
  ])('refuses the top level %s', (text, reason) => {
    expect(refusal(text)).toBe(reason)
  })

  it.each([
    ['{"Update":{"Guests":[1,2,"abc"]}}', 'Update.Guests[2] must be an integer id, got "abc"'],
    ['{"Update":{"Guests":[1.5]}}', 'Update.Guests[0] must be an integer id, got 1.5'],
    ['{"Add":{"Rooms":[true]}}', 'Add.Rooms[0] must be an integer id, got true'],
    ['{"Add":{"Rooms":[160,null]}}', 'Add.Rooms[1] must be an integer id, got null'],
    ['{"Add":{"Rooms":[[160]]}}', 'Add.Rooms[0] must be an integer id, got [160]'],
    ['{"Add":{"Rooms":[{"id":160}]}}', 'Add.Rooms[0] must be an integer id, got {"id":160}'],
    ['{"Add":{"Rooms":["1e3"]}}', 'Add.Rooms[0] must be an integer id, got "1e3"'],
    ['{"Add":{"Rooms":["12.0"]}}', 'Add.Rooms[0] must be an integer id, got "12.0"'],
    ['{"Add":{"Rooms":[""]}}', 'Add.Rooms[0] must be an integer id, got ""'],
    ['{"Delete":{"Clients":[0]}}', 'Delete.Clients[0] must be a positive id, got 0'],
    ['{"Delete":{"Clients":[-5]}}', 'Delete.Clients[0] must be a positive id, got -5'],
    ['{"Delete":{"Clients":["-1"]}}', 'Delete.Clients[0] must be a positive id, got "-1"'],
    ['{"Delete":{"Clients":[9007199254740993]}}', 'Delete.Clients[0] must be an id of at most 9007199254740991 (2^53 - 1), got 9007199254740992'],
    ['{"Delete":{"Clients":["9007199254740993"]}}', 'Delete.Clients[0] must be an id of at most 9007199254740991 (2^53 - 1), got "9007199254740993"'],
    ['{"Update ":{"Guests":["x"]}}', '"Update ".Guests[0] must be an integer id, got "x"'],
    ['{"Update":{" guests":["x"]}}', 'Update." guests"[0] must be an integer id, got "x"'],
  ])('refuses %s', (text, reason) => {
    expect(refusal(text)).toBe(reason)
  })

  it.each([
    ['{"Update":{"Guests":23061}}', 'Update.Guests must be a list of ids or null, got 23061'],
    ['{"Update":{"Guests":"23061"}}', 'Update.Guests must be a list of ids or null, got "23061"'],
    ['{"Update":{"Guests":{"0":23061}}}', 'Update.Guests must be a list of ids or null, got {"0":23061}'],
    ['{"Add":[12766]}', 'Add must be an object of Clients, Companies, Guests and Rooms, or null, got [12766]'],
    ['{"Add":"Clients"}', 'Add must be an object of Clients, Companies, Guests and Rooms, or null, got "Clients"'],
  ])('refuses a list or action of the wrong shape: %s', (text, reason) => {
    expect(refusal(text)).toBe(reason)
  })

  it('keeps keys the document does not list by their trimmed, lower-cased name, rather than dropping what they hold', () => {
    expect(parse('{"Add":null,"Merge":{"Clients":[1]}}')).toEqual([{ action: 'merge', entity: 'client', listed: true, id: 1 }])
    expect(parse('{"Add":{"Guests":[1]," Bookings ":[2]}}')).toEqual([
      { action: 'add', entity: 'guest', listed: true, id: 1 },
      { action: 'add', entity: 'bookings', listed: false, id: 2 },
    ])
    // Singular is not the document's word: a key of its own (servio.other), not Guests.
    expect(parse('{"Update":{"Guest":[1]}}')).toEqual([{ action: 'update', entity: 'guest', listed: false, id: 1 }])
  })

  it('refuses a key that names nothing', () => {
    expect(refusal('{"Add":null,"":null}')).toBe('the action key "" names nothing')
    expect(refusal('{"Add":{"  ":[1]}}')).toBe('the entity key "  " in Add names nothing')
  })

  it('refuses a key repeated verbatim, which JSON.parse would collapse to its last value', () => {
    expect(refusal('{"Add":{"Guests":[1]},"Add":{"Guests":[2]}}')).toBe(
      'the key "Add" appears more than once at the top level; JSON keeps only the last, so the batch is refused whole',
    )
    expect(refusal('{"Update ":{"Guests":[1],"Rooms":null,"Guests":null}}')).toMatch(/^the key "Guests" appears more than once in "Update "; /)
    expect(refusal('{"Add":{"Guests":[1]},"Ad\\u0064":null}')).toMatch(/^the key "Add" appears more than once at the top level/)
  })

  it('names the first problem in body order, and produces nothing of a batch with one bad id among many', () => {
    const ids = Array.from({ length: 5_000 }, (_, i) => i + 1)
    expect(refusal(`{"Add":{"Guests":[${ids.join(',')}]},"Delete":{"Rooms":[1,2,"r3"]}}`)).toBe('Delete.Rooms[2] must be an integer id, got "r3"')
  })
})

describe('repeatedKey', () => {
  it('finds nothing in the document examples and in keys that only normalise alike', () => {
    expect(repeatedKey(servioFixture('questionnaire-1-add-client.json').toString())).toBeUndefined()
    expect(repeatedKey('{"Update":{"Guests":[1]},"Update ":{"Guests":[2]},"update":null}')).toBeUndefined()
  })

  it('does not take strings inside arrays or string values for keys, nor escaped quotes for string ends', () => {
    expect(repeatedKey('{"a":["a","a"],"b":"a","c":{"a":1},"d\\"":{"d\\"":1}}')).toBeUndefined()
    expect(repeatedKey('[{"a":1},{"a":2}]')).toBeUndefined()
  })

  it('names the key and the objects around it', () => {
    expect(repeatedKey('{"x":{"y":{"k":1,"k":2}}}')).toEqual({ key: 'k', within: ['x', 'y'] })
    expect(repeatedKey('{"k" : 1 , "k":2}')).toEqual({ key: 'k', within: [] })
  })
})
