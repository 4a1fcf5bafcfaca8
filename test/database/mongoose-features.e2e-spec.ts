import mongoose, { Connection, Model, Schema } from 'mongoose';
import { testDatabaseUri, uniqueDbName } from '../support/test-app';

/**
 * The Mongoose features the service relies on, proven against the database server the tests run on
 * (embedded FerretDB by default, or MONGODB_URI).
 */
interface Item {
  key: string;
  owner: string;
  count: number;
  tag?: string;
  at: Date;
}

describe('Database server compatibility', () => {
  let connection: Connection;
  let items: Model<Item>;

  beforeAll(async () => {
    mongoose.set('sanitizeFilter', true);
    connection = await mongoose.createConnection(testDatabaseUri(), { dbName: uniqueDbName() }).asPromise();
    const schema = new Schema<Item>({
      key: { type: String, required: true },
      owner: { type: String, required: true },
      count: { type: Number, default: 0 },
      tag: String,
      at: { type: Date, default: () => new Date() },
    });
    schema.index({ key: 1 }, { unique: true });
    schema.index({ owner: 1, at: -1 });
    items = connection.model<Item>('Item', schema);
    await items.syncIndexes();
  });

  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  it('enforces unique indexes with the E11000 duplicate-key error', async () => {
    await items.create({ key: 'unique-1', owner: 'a' });
    await expect(items.create({ key: 'unique-1', owner: 'b' })).rejects.toMatchObject({ code: 11000 });
    expect(await items.countDocuments({ key: 'unique-1' })).toBe(1);
  });

  it('applies $inc and $set in findOneAndUpdate and returns the new document', async () => {
    await items.create({ key: 'counter', owner: 'a', count: 1 });
    const updated = await items
      .findOneAndUpdate(
        { key: 'counter' },
        { $inc: { count: 41 }, $set: { tag: 'done' } },
        { returnDocument: 'after' },
      )
      .lean();
    expect(updated).toMatchObject({ count: 42, tag: 'done' });

    for (let i = 0; i < 5; i++) await items.updateOne({ key: 'counter' }, { $inc: { count: 1 } });
    expect((await items.findOne({ key: 'counter' }).lean())?.count).toBe(47);
  });

  it('upserts: inserts once, then updates the same document', async () => {
    const first = await items.updateOne(
      { key: 'upserted' },
      { $set: { count: 1 }, $setOnInsert: { owner: 'a' } },
      { upsert: true },
    );
    const second = await items.updateOne(
      { key: 'upserted' },
      { $set: { count: 2 }, $setOnInsert: { owner: 'b' } },
      { upsert: true },
    );
    expect(first.upsertedCount).toBe(1);
    expect(second).toMatchObject({ upsertedCount: 0, matchedCount: 1 });
    expect(await items.findOne({ key: 'upserted' }).lean()).toMatchObject({ count: 2, owner: 'a' });
  });

  it('pages with sort + limit and an (at, _id) cursor, without gaps or repeats', async () => {
    const base = Date.now();
    await items.insertMany(
      Array.from({ length: 7 }, (_, i) => ({
        key: `page-${i}`,
        owner: 'pager',
        at: new Date(base + (i % 3) * 1000),
      })),
    );
    const seen: string[] = [];
    let cursor: { at: Date; _id: mongoose.Types.ObjectId } | undefined;
    for (let page = 0; page < 10; page++) {
      const filter = cursor
        ? {
            owner: 'pager',
            $or: mongoose.trusted([
              { at: mongoose.trusted({ $lt: cursor.at }) },
              { at: cursor.at, _id: mongoose.trusted({ $lt: cursor._id }) },
            ]),
          }
        : { owner: 'pager' };
      const docs = await items.find(filter).sort({ at: -1, _id: -1 }).limit(3).lean();
      if (docs.length === 0) break;
      seen.push(...docs.map((doc) => doc.key));
      const last = docs[docs.length - 1];
      cursor = { at: last.at, _id: last._id };
    }
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
    const order = await items.find({ owner: 'pager' }).sort({ at: -1, _id: -1 }).lean();
    expect(seen).toEqual(order.map((doc) => doc.key));
  });

  it('counts documents matching a filter', async () => {
    await items.insertMany([
      { key: 'count-1', owner: 'counter-owner', tag: 'x' },
      { key: 'count-2', owner: 'counter-owner', tag: 'y' },
      { key: 'count-3', owner: 'counter-owner', tag: 'x' },
    ]);
    expect(await items.countDocuments({ owner: 'counter-owner' })).toBe(3);
    expect(await items.countDocuments({ owner: 'counter-owner', tag: 'x' })).toBe(2);
  });

  it('neutralises query operators in untrusted filters (sanitizeFilter)', async () => {
    await items.create({ key: 'secret', owner: 'victim' });
    const injected = { owner: { $ne: 'nobody' } } as unknown as { owner: string };
    await expect(items.find(injected).lean()).rejects.toThrow(/Cast/);
  });
});
